package souq

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// MarketCode is an ISO 3166-1 alpha-2 country code of a market Souq sells into.
type MarketCode string

// The six Gulf Cooperation Council markets.
const (
	AE MarketCode = "AE" // United Arab Emirates
	SA MarketCode = "SA" // Saudi Arabia
	QA MarketCode = "QA" // Qatar
	KW MarketCode = "KW" // Kuwait
	BH MarketCode = "BH" // Bahrain
	OM MarketCode = "OM" // Oman
)

// Market is a country the shop sells into: its currency, VAT rate and
// telephone country code.
type Market struct {
	Code     MarketCode `json:"code"`
	Name     Localized  `json:"name"`
	Currency Currency   `json:"currency"`
	// VATBasisPoints is the standard VAT rate in hundredths of a percent
	// (500 = 5%).
	VATBasisPoints int64 `json:"vat_basis_points"`
	// PhonePrefix is the international dialling code, e.g. "+971".
	PhonePrefix string `json:"phone_prefix"`
	// PhoneDigits is the length of a national subscriber number after the
	// prefix (9 in the UAE and Saudi Arabia, 8 elsewhere in the Gulf).
	PhoneDigits int `json:"phone_digits"`
	// Cities lists the emirates, regions or governorates used in addresses.
	Cities []string `json:"cities"`
}

// Standard VAT rates as of 2026: UAE 5% (Federal Decree-Law 8/2017), Saudi
// Arabia 15% (since July 2020), Bahrain 10% (since January 2022), Oman 5%
// (since April 2021); Qatar and Kuwait levy no VAT.
var markets = []Market{
	{Code: AE, Name: Localized{EN: "United Arab Emirates", AR: "الإمارات العربية المتحدة"}, Currency: AED, VATBasisPoints: 500, PhonePrefix: "+971", PhoneDigits: 9,
		Cities: []string{"Abu Dhabi", "Dubai", "Sharjah", "Ajman", "Umm Al Quwain", "Ras Al Khaimah", "Fujairah", "Al Ain"}},
	{Code: SA, Name: Localized{EN: "Saudi Arabia", AR: "المملكة العربية السعودية"}, Currency: SAR, VATBasisPoints: 1500, PhonePrefix: "+966", PhoneDigits: 9,
		Cities: []string{"Riyadh", "Jeddah", "Mecca", "Medina", "Dammam", "Khobar", "Dhahran", "Taif", "Tabuk", "Abha"}},
	{Code: QA, Name: Localized{EN: "Qatar", AR: "قطر"}, Currency: QAR, VATBasisPoints: 0, PhonePrefix: "+974", PhoneDigits: 8,
		Cities: []string{"Doha", "Al Rayyan", "Al Wakrah", "Al Khor", "Lusail", "Umm Salal"}},
	{Code: KW, Name: Localized{EN: "Kuwait", AR: "الكويت"}, Currency: KWD, VATBasisPoints: 0, PhonePrefix: "+965", PhoneDigits: 8,
		Cities: []string{"Kuwait City", "Hawalli", "Salmiya", "Farwaniya", "Ahmadi", "Jahra", "Mubarak Al-Kabeer"}},
	{Code: BH, Name: Localized{EN: "Bahrain", AR: "البحرين"}, Currency: BHD, VATBasisPoints: 1000, PhonePrefix: "+973", PhoneDigits: 8,
		Cities: []string{"Manama", "Muharraq", "Riffa", "Hamad Town", "Isa Town", "Sitra"}},
	{Code: OM, Name: Localized{EN: "Oman", AR: "عُمان"}, Currency: OMR, VATBasisPoints: 500, PhonePrefix: "+968", PhoneDigits: 8,
		Cities: []string{"Muscat", "Seeb", "Salalah", "Sohar", "Nizwa", "Sur", "Ibri"}},
}

// Markets returns every market in display order.
func Markets() []Market { return slices.Clone(markets) }

// MarketCodes returns the codes of every market in display order.
func MarketCodes() []MarketCode {
	codes := make([]MarketCode, len(markets))
	for i, m := range markets {
		codes[i] = m.Code
	}
	return codes
}

// LookupMarket returns the market with the given code (case-insensitive).
// An unknown code is an ErrInvalid error naming the known ones.
func LookupMarket(code string) (Market, error) {
	c := MarketCode(strings.ToUpper(strings.TrimSpace(code)))
	for _, m := range markets {
		if m.Code == c {
			return m, nil
		}
	}
	return Market{}, Errorf(ErrInvalid, "unknown market %q: use one of %s", code, joinCodes())
}

func joinCodes() string {
	var b strings.Builder
	for i, m := range markets {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(m.Code))
	}
	return b.String()
}

// HasCity reports whether city is one of the market's listed cities
// (case-insensitive).
func (m Market) HasCity(city string) bool {
	for _, c := range m.Cities {
		if strings.EqualFold(c, strings.TrimSpace(city)) {
			return true
		}
	}
	return false
}

// Zone is the market's time zone: UTC+4 in the UAE and Oman, UTC+3 in the
// other four. None of the six observes daylight saving time, so fixed
// offsets are exact and need no tz database.
func (c MarketCode) Zone() *time.Location {
	if c == AE || c == OM {
		return time.FixedZone("UTC+4", 4*3600)
	}
	return time.FixedZone("UTC+3", 3*3600)
}

// String returns the market code.
func (c MarketCode) String() string { return string(c) }

// Valid reports whether c names a known market.
func (c MarketCode) Valid() bool {
	_, err := LookupMarket(string(c))
	return err == nil && strings.ToUpper(string(c)) == string(c)
}

// MustMarket returns the market for a code known at compile time; it panics
// on an unknown code and is meant for tables and tests.
func MustMarket(c MarketCode) Market {
	m, err := LookupMarket(string(c))
	if err != nil {
		panic(fmt.Sprintf("souq: %v", err))
	}
	return m
}
