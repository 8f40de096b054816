package storefront

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/mail"
	"regexp"
	"strings"

	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/storefront/i18n"
)

// ShopInfo is what the shop says about itself, from the operator's
// configuration (souq serve --shop-info FILE): who sells, how to reach
// them, and the policies shoppers decide on. The footer shows the company,
// its numbers and contacts; the policies have pages of their own.
type ShopInfo struct {
	Company souq.Localized `json:"company"` // the legal name
	// CommercialRegistration and VATNumber are shown as given (the
	// numbers differ in form per country).
	CommercialRegistration string `json:"commercial_registration"`
	VATNumber              string `json:"vat_number"`
	Email                  string `json:"email"`
	Phone                  string `json:"phone"`    // E.164, e.g. +97142345678
	WhatsApp               string `json:"whatsapp"` // E.164; linked as https://wa.me/<digits>
	// Returns and Delivery are the policies' text, paragraphs separated by
	// blank lines; Authentic is the "authentic products" statement.
	Returns   souq.Localized `json:"returns"`
	Delivery  souq.Localized `json:"delivery"`
	Authentic souq.Localized `json:"authentic"`
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// ParseShopInfo reads a ShopInfo from JSON: unknown fields are errors, and
// so are a malformed e-mail address or phone number, and a text given in
// one language only.
func ParseShopInfo(data []byte) (*ShopInfo, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var in ShopInfo
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("shop info: %w", err)
	}
	var problems []string
	if in.Company.EN == "" || in.Company.AR == "" {
		problems = append(problems, "company needs an English and an Arabic name")
	}
	if in.Email != "" {
		if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email {
			problems = append(problems, fmt.Sprintf("email %q is not an e-mail address", in.Email))
		}
	}
	for name, n := range map[string]string{"phone": in.Phone, "whatsapp": in.WhatsApp} {
		if n != "" && !e164.MatchString(n) {
			problems = append(problems, fmt.Sprintf("%s %q: write it in international form, e.g. +97142345678", name, n))
		}
	}
	for name, l := range map[string]souq.Localized{"returns": in.Returns, "delivery": in.Delivery, "authentic": in.Authentic} {
		if (l.EN == "") != (l.AR == "") {
			problems = append(problems, name+" needs both English and Arabic text (or neither)")
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("shop info: %s", strings.Join(problems, "; "))
	}
	return &in, nil
}

// DemoShopInfo is the demo shop's information.
func DemoShopInfo() *ShopInfo {
	return &ShopInfo{
		Company:                souq.Localized{EN: "Souq Demo Trading L.L.C.", AR: "سوق ديمو للتجارة ذ.م.م"},
		CommercialRegistration: "1234567 (Dubai, demo)",
		VATNumber:              "100000000000003 (demo)",
		Email:                  "care@souq.example", Phone: "+97140000000", WhatsApp: "+971500000000",
		Returns: souq.Localized{
			EN: "Unopened products can be returned within 14 days of delivery for a full refund.\n\nCall or message us and a courier collects the parcel at no cost. Refunds reach your card within 7 days; cash-on-delivery orders are refunded by bank transfer.",
			AR: "يمكن إرجاع المنتجات غير المفتوحة خلال ١٤ يومًا من التسليم واسترداد المبلغ كاملًا.\n\nاتصل بنا أو راسلنا وسيستلم المندوب الطرد مجانًا. يصل المبلغ المسترد إلى بطاقتك خلال ٧ أيام، وتُسترد طلبات الدفع عند الاستلام بتحويل بنكي.",
		},
		Delivery: souq.Localized{
			EN: "We deliver to every city of the six Gulf markets. Orders placed before the daily cut-off are dispatched the same day.\n\nCash on delivery is available in every market.",
			AR: "نوصل إلى كل مدن أسواق الخليج الستة. تُشحن الطلبات المقدمة قبل موعد الإغلاق اليومي في اليوم نفسه.\n\nالدفع عند الاستلام متاح في كل الأسواق.",
		},
		Authentic: souq.Localized{
			EN: "Every product is genuine, bought from the brand or its authorised distributor in the Gulf.",
			AR: "كل المنتجات أصلية، نشتريها من العلامة التجارية أو من موزعها المعتمد في الخليج.",
		},
	}
}

// infoView is the footer's and the policy pages' information in one
// language.
type infoView struct {
	Company, CR, VAT  string
	Email, Phone      string
	PhoneURL          template.URL // tel:, which html/template would not pass as a string
	WAURL             string
	Returns, Delivery bool // the pages exist
	ReturnsURL        string
	DeliveryURL       string
	Authentic         string
}

func (s *Storefront) infoView(v *visit) *infoView {
	in := s.Info
	if in == nil {
		return nil
	}
	out := &infoView{Company: in.Company.In(v.lang), CR: in.CommercialRegistration, VAT: in.VATNumber, Email: in.Email,
		Phone: in.Phone, Authentic: in.Authentic.In(v.lang), Returns: in.Returns.EN != "", Delivery: in.Delivery.EN != "",
		ReturnsURL: v.url("/returns"), DeliveryURL: v.url("/delivery")}
	if in.Phone != "" {
		out.PhoneURL = template.URL("tel:" + in.Phone) // checked: + and digits only
	}
	if in.WhatsApp != "" {
		out.WAURL = "https://wa.me/" + strings.TrimPrefix(in.WhatsApp, "+")
	}
	return out
}

type policyPage struct {
	base
	Heading    string
	Paragraphs []string
}

// policy renders /{lang}/returns or /{lang}/delivery from the shop's
// information; 404 when it gives none.
func (s *Storefront) policy(which string) func(v *visit) error {
	return func(v *visit) error {
		var text souq.Localized
		if s.Info != nil {
			text = map[string]souq.Localized{"returns": s.Info.Returns, "delivery": s.Info.Delivery}[which]
		}
		if text.EN == "" {
			return souq.Errorf(souq.ErrNotFound, "no %s policy", which)
		}
		heading := i18n.T(v.lang, "info."+which)
		p := policyPage{base: s.base(v, heading), Heading: heading}
		for para := range strings.SplitSeq(text.In(v.lang), "\n\n") {
			if para = strings.TrimSpace(para); para != "" {
				p.Paragraphs = append(p.Paragraphs, para)
			}
		}
		s.render(v, 200, "policy", p)
		return nil
	}
}
