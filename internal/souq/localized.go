package souq

// Lang is a user-interface language.
type Lang string

// The languages Souq speaks.
const (
	English Lang = "en"
	Arabic  Lang = "ar"
)

// Localized is a text in English and Arabic.
type Localized struct {
	EN string `json:"en"`
	AR string `json:"ar"`
}

// In returns the text in lang, falling back to English when the Arabic text
// is missing.
func (l Localized) In(lang Lang) string {
	if lang == Arabic && l.AR != "" {
		return l.AR
	}
	return l.EN
}
