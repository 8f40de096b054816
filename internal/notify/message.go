package notify

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"text/template"
	"time"
	"unicode"

	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/storefront/i18n"
)

// Message is an e-mail ready for SMTP: its envelope and its RFC 5322 text.
type Message struct {
	From, To string // envelope addresses
	ID       string // the Message-ID header's value, without the angle brackets
	Data     []byte // headers and body, CRLF line ends
}

// messageID is the Message-ID of the confirmation of the order event
// eventID: the same for every send of it, so copies sent twice in the
// window the package comment describes are recognisably one message.
func messageID(eventID, fromAddr string) string {
	domain := "souq.invalid"
	if at := strings.LastIndexByte(fromAddr, '@'); at >= 0 && at < len(fromAddr)-1 {
		domain = fromAddr[at+1:]
	}
	return "order-confirmation." + eventID + "@" + domain
}

// texts are the e-mail's own texts; the order's words (total, VAT, delivery
// address…) are the storefront's, from i18n, so the e-mail and the order
// page say the same.
var texts = map[souq.Lang]map[string]string{
	souq.English: {
		"subject":  "Your order {1} is confirmed",
		"greeting": "Hello {1},",
		"line":     "{1} × {2}",
		"footer":   "You receive this e-mail because an order was placed with this address. Keep your order number for any question about it.",
	},
	souq.Arabic: {
		"subject":  "تم تأكيد طلبك {1}",
		"greeting": "مرحبًا {1}،",
		"line":     "{1} × {2}",
		"footer":   "وصلتك هذه الرسالة لأن طلبًا سُجّل بهذا العنوان. احتفظ برقم طلبك لأي استفسار عنه.",
	},
}

func text(lang souq.Lang, key string, args ...string) string {
	s := texts[lang][key]
	for i, a := range args {
		s = strings.ReplaceAll(s, fmt.Sprintf("{%d}", i+1), a)
	}
	return s
}

// view is what the templates show.
type view struct {
	Lang, Dir                  string
	Subject, Greeting, Heading string
	NumberLabel, Number        string
	Lines                      []lineView
	ItemLabel, QuantityLabel   string
	LineTotalLabel             string
	Fees                       []feeView // delivery and cash-on-delivery fees paid
	TotalLabel, Total          string
	VATLabel, VAT              string
	PaymentLabel, Payment      string
	ShipTo                     string
	Name, Phone, Line1, Place  string
	Country                    string
	NotesLabel, Notes          string
	Footer                     string
}

// feeView is a fee the order paid: "Delivery: AED 15.00".
type feeView struct{ Label, Amount string }

type lineView struct {
	Name                 htmltemplate.HTML // with its Latin runs isolated (ltrRuns)
	SKU, Quantity, Total string
	Text                 string
}

// isolate wraps a left-to-right run (a number, an amount, a SKU) in
// first-strong isolates for plain text, so that in an Arabic line it keeps
// its order ("SQ-7K4M2Q" does not become "7K4M2Q-SQ").
func isolate(lang souq.Lang, s string) string {
	if lang != souq.Arabic {
		return s
	}
	return "\u2068" + s + "\u2069"
}

// cityName is a city's name in lang, as the storefront shows it.
func cityName(lang souq.Lang, name string) string {
	key := "city." + strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(name))
	if s, ok := i18n.Lookup(lang, key); ok {
		return s
	}
	return name
}

func newView(o souq.Order) view {
	lang := o.Language
	if lang != souq.Arabic {
		lang = souq.English
	}
	m := func(amount int64) string { return souq.M(amount, o.Currency).Format(lang) }
	v := view{Lang: string(lang), Dir: "ltr",
		Subject:     text(lang, "subject", o.Number),
		Greeting:    text(lang, "greeting", clean(o.Customer.Name)),
		Heading:     i18n.T(lang, "order.confirmed"),
		NumberLabel: i18n.T(lang, "order.number"), Number: o.Number,
		ItemLabel: i18n.T(lang, "order.item"), QuantityLabel: i18n.T(lang, "order.quantity"), LineTotalLabel: i18n.T(lang, "order.line_total"),
		TotalLabel: i18n.T(lang, "order.total"), Total: m(o.Total),
		PaymentLabel: i18n.T(lang, "order.payment"), Payment: i18n.T(lang, "order.payment_cod"),
		ShipTo: i18n.T(lang, "order.ship_to"),
		Name:   clean(o.Customer.Name), Phone: o.Customer.Phone, Line1: clean(o.ShippingAddress.Line1),
		Place:      i18n.T(lang, "order.area_city", clean(o.ShippingAddress.Area), cityName(lang, o.ShippingAddress.City)),
		NotesLabel: i18n.T(lang, "order.notes"), Notes: clean(o.ShippingAddress.Line2),
		Footer: text(lang, "footer"),
	}
	if lang == souq.Arabic {
		v.Dir = "rtl"
	}
	if o.DeliveryFee > 0 {
		v.Fees = append(v.Fees, feeView{Label: i18n.T(lang, "delivery.fee"), Amount: m(o.DeliveryFee)})
	}
	if o.CODFee > 0 {
		v.Fees = append(v.Fees, feeView{Label: i18n.T(lang, "delivery.cod_fee"), Amount: m(o.CODFee)})
	}
	if v.Number == "" { // an order placed before numbers
		v.Number = string(o.ID)
		v.Subject = text(lang, "subject", v.Number)
	}
	if o.Payment.Method == souq.PayCard {
		v.Payment = i18n.T(lang, "order.payment_card")
	}
	if mk, err := souq.LookupMarket(string(o.Market)); err == nil {
		v.Country = mk.Name.In(lang)
	}
	var vatRate int64
	for _, l := range o.Lines {
		vatRate = max(vatRate, l.VATBasisPoints)
		name := l.Name.In(lang)
		v.Lines = append(v.Lines, lineView{Name: ltrRuns(lang, name), SKU: l.SKU, Quantity: i18n.Number(lang, l.Quantity), Total: m(l.LineTotal),
			Text: text(lang, "line", plainRuns(lang, name)+" ("+isolate(lang, l.SKU)+")", i18n.Number(lang, l.Quantity)) + ": " + isolate(lang, m(l.LineTotal))})
	}
	v.VATLabel, v.VAT = i18n.T(lang, "order.vat", i18n.Percent(lang, vatRate)), m(o.VAT)
	return v
}

// latinRuns finds the left-to-right runs in a text: a Latin letter or
// digit and the ASCII that follows it up to a space ("SPF50+", "B5").
var latinRuns = regexp.MustCompile(`[A-Za-z0-9][!-~]*`)

// ltrRuns is s for HTML, its Latin runs in Arabic wrapped in
// <bdi dir="ltr"> so that "SPF50+" does not show as "+SPF50".
func ltrRuns(lang souq.Lang, s string) htmltemplate.HTML {
	esc := htmltemplate.HTMLEscapeString(s)
	if lang != souq.Arabic {
		return htmltemplate.HTML(esc)
	}
	var b strings.Builder
	last := 0
	for _, m := range latinRuns.FindAllStringIndex(s, -1) {
		b.WriteString(htmltemplate.HTMLEscapeString(s[last:m[0]]))
		b.WriteString(`<bdi dir="ltr">` + htmltemplate.HTMLEscapeString(s[m[0]:m[1]]) + `</bdi>`)
		last = m[1]
	}
	b.WriteString(htmltemplate.HTMLEscapeString(s[last:]))
	return htmltemplate.HTML(b.String())
}

// plainRuns is s for plain text, its Latin runs in Arabic between
// left-to-right isolates (U+2066 … U+2069).
func plainRuns(lang souq.Lang, s string) string {
	if lang != souq.Arabic {
		return s
	}
	return latinRuns.ReplaceAllStringFunc(s, func(r string) string { return "\u2066" + r + "\u2069" })
}

// clean drops control characters (line breaks in a name would break the
// text's layout).
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

var plainTemplate = template.Must(template.New("plain").Funcs(template.FuncMap{"iso": func(lang, s string) string {
	return isolate(souq.Lang(lang), s)
}}).Parse(`{{.Greeting}}

{{.Heading}}
{{.NumberLabel}}: {{iso .Lang .Number}}

{{range .Lines}}- {{.Text}}
{{end}}{{range .Fees}}{{.Label}}: {{iso $.Lang .Amount}}
{{end}}
{{.TotalLabel}}: {{iso .Lang .Total}}
{{.VATLabel}}: {{iso .Lang .VAT}}
{{.PaymentLabel}}: {{.Payment}}

{{.ShipTo}}:
{{.Name}}
{{iso .Lang .Phone}}
{{.Line1}}
{{.Place}}
{{.Country}}
{{with .Notes}}{{$.NotesLabel}} {{.}}
{{end}}
--
{{.Footer}}
`))

var htmlTemplate = htmltemplate.Must(htmltemplate.New("html").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}" dir="{{.Dir}}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{{.Subject}}</title></head>
<body dir="{{.Dir}}" style="font-family:Tahoma,Arial,sans-serif;font-style:normal;color:#222;max-width:600px;margin:0 auto;padding:16px">
<p>{{.Greeting}}</p>
<h1 style="font-size:20px">{{.Heading}}</h1>
<p>{{.NumberLabel}}: <strong><bdi dir="ltr" id="order-number">{{.Number}}</bdi></strong></p>
<table dir="{{.Dir}}" style="width:100%;border-collapse:collapse" cellpadding="6">
<thead><tr><th scope="col" style="text-align:start">{{.ItemLabel}}</th><th scope="col">{{.QuantityLabel}}</th><th scope="col" style="text-align:end">{{.LineTotalLabel}}</th></tr></thead>
<tbody>
{{- range .Lines}}
<tr><td>{{.Name}} <bdi dir="ltr" style="color:#666">{{.SKU}}</bdi></td><td style="text-align:center">{{.Quantity}}</td><td style="text-align:end"><bdi>{{.Total}}</bdi></td></tr>
{{- end}}
</tbody>
</table>
{{- if .Fees}}
<p>{{range $i, $f := .Fees}}{{if $i}}<br>{{end}}{{$f.Label}}: <bdi>{{$f.Amount}}</bdi>{{end}}</p>
{{- end}}
<p><strong>{{.TotalLabel}}: <bdi>{{.Total}}</bdi></strong><br>{{.VATLabel}}: <bdi>{{.VAT}}</bdi><br>{{.PaymentLabel}}: {{.Payment}}</p>
<h2 style="font-size:16px">{{.ShipTo}}</h2>
<p style="font-style:normal">{{.Name}}<br><bdi dir="ltr">{{.Phone}}</bdi><br>{{.Line1}}<br>{{.Place}}<br>{{.Country}}</p>
{{- with .Notes}}
<p>{{$.NotesLabel}} {{.}}</p>
{{- end}}
<p style="color:#666;font-size:12px">{{.Footer}}</p>
</body>
</html>
`))

// Compose writes the confirmation e-mail of order o, whose "Order
// Completed" event is eventID, from the address from (an RFC 5322 address,
// "Souq <orders@shop.example>"), dated at. It fails when o has no e-mail
// address or from is not an address.
func Compose(o souq.Order, eventID, from string, at time.Time) (Message, error) {
	sender, err := mail.ParseAddress(from)
	if err != nil {
		return Message{}, fmt.Errorf("sender %q: %w", from, err)
	}
	if o.Customer.Email == "" {
		return Message{}, fmt.Errorf("order %s has no e-mail address", o.ID)
	}
	if mk, err := souq.LookupMarket(string(o.Market)); err != nil || mk.Currency != o.Currency {
		return Message{}, fmt.Errorf("order %s: market %q with currency %q", o.ID, o.Market, o.Currency)
	}
	to := &mail.Address{Name: clean(o.Customer.Name), Address: o.Customer.Email}
	v := newView(o)
	var plain, html bytes.Buffer
	if err := plainTemplate.Execute(&plain, v); err != nil {
		return Message{}, fmt.Errorf("plain text: %w", err)
	}
	if err := htmlTemplate.Execute(&html, v); err != nil {
		return Message{}, fmt.Errorf("html: %w", err)
	}
	id := messageID(eventID, sender.Address)
	var b bytes.Buffer
	body := multipart.NewWriter(&b)
	if err := body.SetBoundary("souq-" + strings.NewReplacer("_", "-").Replace(eventID)); err != nil {
		return Message{}, fmt.Errorf("boundary: %w", err)
	}
	head := [][2]string{
		{"From", sender.String()},
		{"To", to.String()},
		{"Subject", mime.QEncoding.Encode("utf-8", v.Subject)},
		{"Date", at.Format(time.RFC1123Z)},
		{"Message-ID", "<" + id + ">"},
		{"MIME-Version", "1.0"},
		{"Content-Language", v.Lang},
		{"Content-Type", `multipart/alternative; boundary="` + body.Boundary() + `"`},
		{"Auto-Submitted", "auto-generated"},
	}
	var out bytes.Buffer
	for _, h := range head {
		fmt.Fprintf(&out, "%s: %s\r\n", h[0], h[1])
	}
	out.WriteString("\r\n")
	for _, part := range []struct {
		kind string
		text []byte
	}{{"text/plain; charset=utf-8", plain.Bytes()}, {"text/html; charset=utf-8", html.Bytes()}} {
		w, err := body.CreatePart(textproto.MIMEHeader{"Content-Type": {part.kind}, "Content-Transfer-Encoding": {"quoted-printable"}})
		if err != nil {
			return Message{}, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write(crlf(part.text)); err != nil {
			return Message{}, err
		}
		if err := qp.Close(); err != nil {
			return Message{}, err
		}
	}
	if err := body.Close(); err != nil {
		return Message{}, err
	}
	out.Write(b.Bytes())
	return Message{From: sender.Address, To: o.Customer.Email, ID: id, Data: out.Bytes()}, nil
}

// crlf turns the templates' line ends into CRLF.
func crlf(b []byte) []byte {
	return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
}
