package shopper

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/souq-commerce/souq/internal/souq"
)

// marketShare is each market's share of the shoppers at the daily peak,
// roughly each country's share of Gulf online retail: Saudi Arabia and the
// UAE most, then Kuwait, Qatar, Oman and Bahrain. The shares add up to 1.
var marketShare = map[souq.MarketCode]float64{
	souq.SA: 0.36,
	souq.AE: 0.30,
	souq.KW: 0.12,
	souq.QA: 0.10,
	souq.OM: 0.07,
	souq.BH: 0.05,
}

// arabicShare is the share of a market's shoppers who browse in Arabic; the
// others use English (the UAE and Qatar have the largest expatriate
// populations).
var arabicShare = map[souq.MarketCode]float64{
	souq.SA: 0.70, souq.AE: 0.35, souq.KW: 0.60, souq.QA: 0.45, souq.OM: 0.60, souq.BH: 0.50,
}

// cityWeight favours the big cities of each market; a city not listed here
// (every city comes from souq.Market.Cities) weighs 1.
var cityWeight = map[string]float64{
	"Dubai": 6, "Abu Dhabi": 4, "Sharjah": 3, "Al Ain": 1.5, "Ajman": 1.5,
	"Riyadh": 7, "Jeddah": 5, "Dammam": 2.5, "Mecca": 2.5, "Medina": 2, "Khobar": 2,
	"Doha": 6, "Al Rayyan": 3, "Lusail": 1.5, "Al Wakrah": 1.5,
	"Kuwait City": 3, "Hawalli": 2.5, "Salmiya": 2.5, "Farwaniya": 2.5, "Ahmadi": 1.5,
	"Manama": 4, "Muharraq": 2, "Riffa": 2,
	"Muscat": 6, "Seeb": 3, "Salalah": 2, "Sohar": 2,
}

// areas are districts of the big cities, for shipping addresses; other
// cities get a generic district name.
var areas = map[string][]string{
	"Dubai":       {"Al Barsha", "Jumeirah", "Deira", "Dubai Marina", "Al Nahda", "Mirdif", "Business Bay", "Al Qusais"},
	"Abu Dhabi":   {"Khalifa City", "Al Reem Island", "Al Khalidiyah", "Mohammed Bin Zayed City", "Al Mushrif"},
	"Sharjah":     {"Al Majaz", "Al Nahda", "Muwaileh", "Al Khan"},
	"Riyadh":      {"Al Olaya", "Al Malqa", "Al Nakheel", "Al Yasmin", "Al Sulimaniyah", "Hittin"},
	"Jeddah":      {"Al Rawdah", "Al Shati", "Al Hamra", "Al Zahra", "Obhur"},
	"Dammam":      {"Al Faisaliyah", "Al Shati", "Al Mazruiyah"},
	"Doha":        {"West Bay", "Al Sadd", "The Pearl", "Al Dafna", "Bin Mahmoud"},
	"Kuwait City": {"Sharq", "Dasman", "Qibla", "Mirqab"},
	"Salmiya":     {"Block 10", "Block 12", "Block 4"},
	"Manama":      {"Juffair", "Seef", "Adliya", "Hoora"},
	"Muscat":      {"Al Khuwair", "Qurum", "Madinat Sultan Qaboos", "Al Ghubra", "Ruwi"},
}

var genericAreas = []string{"Al Nahda", "Al Rawdah", "Al Safa", "Al Aziziyah", "Al Andalus", "Al Salam", "Downtown"}

// mobileStarts are the leading digits of mobile numbers in each market;
// the rest of the subscriber number is random, up to the market's length.
var mobileStarts = map[souq.MarketCode][]string{
	souq.AE: {"50", "52", "54", "55", "56", "58"},
	souq.SA: {"50", "53", "54", "55", "56", "58", "59"},
	souq.QA: {"3", "5", "6", "7"},
	souq.KW: {"5", "6", "9"},
	souq.BH: {"33", "34", "36", "39"},
	souq.OM: {"71", "72", "91", "92", "93", "95", "99"},
}

// Given names (mostly women's: the demo shop sells Korean beauty) and
// family names common in each market. Expatriate shoppers get names from
// expatNames.
var (
	givenNames = []string{
		"Mariam", "Fatima", "Noura", "Aisha", "Shamma", "Hessa", "Latifa", "Maitha", "Reem", "Sara",
		"Dana", "Haya", "Lulwa", "Amal", "Noor", "Shaikha", "Dalal", "Jawaher", "Munira", "Asma",
		"Rawan", "Lama", "Ghada", "Hind", "Alanoud", "Nouf", "Abeer", "Salma",
		"Ahmed", "Mohammed", "Khalid", "Saeed", "Omar", "Abdullah", "Faisal", "Sultan", "Hamad", "Yousef",
	}
	familyNames = map[souq.MarketCode][]string{
		souq.AE: {"Al Mansoori", "Al Nuaimi", "Al Shamsi", "Al Ketbi", "Al Mazrouei", "Al Falasi", "Al Dhaheri", "Al Suwaidi"},
		souq.SA: {"Al Qahtani", "Al Otaibi", "Al Ghamdi", "Al Harbi", "Al Zahrani", "Al Shehri", "Al Dossari", "Al Mutairi"},
		souq.KW: {"Al Ajmi", "Al Enezi", "Al Rashidi", "Al Mutawa", "Al Kandari", "Al Azmi", "Al Shammari"},
		souq.QA: {"Al Kuwari", "Al Marri", "Al Sulaiti", "Al Mohannadi", "Al Emadi", "Al Hajri", "Al Naimi"},
		souq.BH: {"Al Mahmood", "Al Aradi", "Al Sayed", "Al Doseri", "Al Mannai", "Al Buainain", "Al Jishi"},
		souq.OM: {"Al Balushi", "Al Harthy", "Al Rawahi", "Al Hinai", "Al Maskari", "Al Lawati", "Al Amri"},
	}
	expatNames = []string{
		"Priya Nair", "Anjali Menon", "Maria Santos", "Joy Dela Cruz", "Aisha Khan", "Fatima Hussain",
		"Sarah Thomas", "Rania Haddad", "Lina Saleh", "Hana Kim", "Emily Clarke", "Zainab Sheikh",
	}
	// expatShare is the share of a market's buyers with an expatriate name.
	expatShare = map[souq.MarketCode]float64{
		souq.AE: 0.45, souq.QA: 0.40, souq.KW: 0.30, souq.BH: 0.30, souq.OM: 0.25, souq.SA: 0.20,
	}
	// emailDomains are reserved for documentation (RFC 2606): no mail to a
	// simulated shopper can reach anyone.
	emailDomains = []string{"example.com", "example.net", "example.org"}
)

// searchTerms are what shoppers type into the search box, in English and
// Arabic; most match products in the demo catalogue, a few match nothing.
var searchTerms = map[souq.Lang][]string{
	souq.English: {"serum", "sunscreen", "lip tint", "toner", "cleanser", "cushion", "snail", "sheet mask",
		"niacinamide", "shampoo", "cica", "vitamin c", "retinol"},
	souq.Arabic: {"سيروم", "واقي شمس", "تينت", "ماسك", "قناع", "كريم", "تونر", "غسول", "شامبو", "مرطب"},
}

// categories are the catalogue's category keys (catalog's category names)
// that shoppers browse.
var categories = []string{"skincare", "makeup", "haircare", "bodycare", "suncare", "masks"}

// pickWeighted returns a key of weights chosen with probability
// proportional to its weight, walking keys in the given order so the choice
// is deterministic for a given rng.
func pickWeighted[K comparable](rng *rand.Rand, keys []K, weight func(K) float64) K {
	var total float64
	for _, k := range keys {
		total += weight(k)
	}
	x := rng.Float64() * total
	for _, k := range keys {
		x -= weight(k)
		if x < 0 {
			return k
		}
	}
	return keys[len(keys)-1]
}

// pickIndex returns an index of weights chosen with probability
// proportional to its weight.
func pickIndex(rng *rand.Rand, weights []float64) int {
	var total float64
	for _, w := range weights {
		total += w
	}
	x := rng.Float64() * total
	for i, w := range weights {
		x -= w
		if x < 0 {
			return i
		}
	}
	return len(weights) - 1
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// pickCity returns one of the market's cities, the big ones more often.
func pickCity(rng *rand.Rand, m souq.Market) string {
	return pickWeighted(rng, m.Cities, func(c string) float64 {
		if w, ok := cityWeight[c]; ok {
			return w
		}
		return 1
	})
}

// phoneNumber returns a mobile number of the market in international form:
// its prefix and exactly PhoneDigits digits.
func phoneNumber(rng *rand.Rand, m souq.Market) string {
	var b strings.Builder
	b.WriteString(pick(rng, mobileStarts[m.Code]))
	for b.Len() < m.PhoneDigits {
		b.WriteByte(byte('0' + rng.IntN(10)))
	}
	return m.PhonePrefix + b.String()
}

// customerName returns a realistic buyer's name for the market.
func customerName(rng *rand.Rand, m souq.Market) string {
	if rng.Float64() < expatShare[m.Code] {
		return pick(rng, expatNames)
	}
	return pick(rng, givenNames) + " " + pick(rng, familyNames[m.Code])
}

// emailFor returns an address at a reserved example domain made from the
// buyer's name: "mariam.almansoori27@example.com".
func emailFor(rng *rand.Rand, name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r)
		case r == ' ' && b.Len() > 0 && !strings.HasSuffix(b.String(), "."):
			b.WriteByte('.')
		}
	}
	local := strings.Trim(b.String(), ".")
	if local == "" {
		local = "shopper"
	}
	return fmt.Sprintf("%s%d@%s", local, rng.IntN(100), pick(rng, emailDomains))
}

// addressLine returns a first address line in the style of the market.
func addressLine(rng *rand.Rand, m souq.Market) string {
	switch m.Code {
	case souq.BH:
		return fmt.Sprintf("Flat %d, Building %d, Road %d, Block %d", 1+rng.IntN(40), 1+rng.IntN(2000), 1+rng.IntN(4000), 100+rng.IntN(900))
	case souq.OM:
		return fmt.Sprintf("House %d, Way %d", 1+rng.IntN(300), 1000+rng.IntN(8000))
	case souq.KW:
		return fmt.Sprintf("Street %d, House %d", 1+rng.IntN(150), 1+rng.IntN(80))
	}
	if rng.IntN(2) == 0 {
		return fmt.Sprintf("Villa %d, Street %d", 1+rng.IntN(120), 1+rng.IntN(60))
	}
	return fmt.Sprintf("Apartment %d, Building %d", 101+rng.IntN(2400), 1+rng.IntN(400))
}

// areaIn returns a district of the city.
func areaIn(rng *rand.Rand, city string) string {
	if as, ok := areas[city]; ok {
		return pick(rng, as)
	}
	return pick(rng, genericAreas)
}
