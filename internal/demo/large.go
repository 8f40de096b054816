package demo

import (
	"fmt"
	"strconv"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

// variant is a word that tells products of one line apart, in English and
// Arabic: a shade, a scent or an edition.
type variant struct{ en, ar string }

var variants = []variant{
	{"Rose", "ورد"}, {"Oud", "عود"}, {"Jasmine", "ياسمين"}, {"Amber", "عنبر"},
	{"Saffron", "زعفران"}, {"Musk", "مسك"}, {"Vanilla", "فانيليا"}, {"Lavender", "لافندر"},
	{"Coral", "مرجاني"}, {"Nude", "نيود"}, {"Ivory", "عاجي"}, {"Sand", "رملي"},
	{"Honey", "عسل"}, {"Pearl", "لؤلؤ"}, {"Mint", "نعناع"}, {"Citrus", "حمضيات"},
	{"Travel Size", "حجم السفر"}, {"Refill", "عبوة إعادة تعبئة"}, {"Duo Set", "طقم ثنائي"}, {"Ramadan Edition", "إصدار رمضان"},
	{"Eid Gift Set", "طقم هدية العيد"}, {"Summer Edition", "إصدار الصيف"}, {"Sensitive", "للبشرة الحساسة"}, {"Extra Rich", "غني جداً"},
}

// LargeCatalogue returns n products for load tests and benchmarks of a
// real-size shop: first the demo catalogue (Products), then variants of its
// products, each with a variant word and a number in both names ("… Rose
// 17", "… ورد 17"), its own SKU ("COSRX-01-V17"), slug and image, a price
// within ±20% of the original's and some stock. The result is the same for
// the same n, so a benchmark's search terms match the same products on
// every run. n below the demo catalogue's size returns its first n
// products.
func LargeCatalogue(n int) []catalog.ProductInput {
	base := Products()
	if n <= len(base) {
		return base[:max(n, 0)]
	}
	out := make([]catalog.ProductInput, 0, n)
	out = append(out, base...)
	baseAED := make([]int64, len(base))
	for i, in := range base {
		baseAED[i] = in.Prices[baseMarket]
	}
	for i := len(base); i < n; i++ {
		k := i / len(base) // the variant's number within its line, from 1
		b := base[i%len(base)]
		v := variants[(i*7+k)%len(variants)]
		suffix := strconv.Itoa(k)
		in := b
		in.SKU = fmt.Sprintf("%s-V%d", b.SKU, k)
		in.Slug = fmt.Sprintf("%s-v%d", b.Slug, k)
		in.Name = souq.Localized{
			EN: b.Name.EN + " " + v.en + " " + suffix,
			AR: b.Name.AR + " " + v.ar + " " + suffix,
		}
		in.Image = b.Image
		// ±20% in steps of 1%, whole dirhams.
		aed := baseAED[i%len(base)] * int64(80+(i*37)%41) / 100
		in.Prices = PriceList(max(aed/100*100, 100))
		stock := 20 + (i*13)%480
		in.Stock = &stock
		out = append(out, in)
	}
	return out
}
