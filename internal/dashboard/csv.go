package dashboard

import (
	"bytes"
	"encoding/csv"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// Every table endpoint answers CSV too, with ?format=csv or an Accept
// header that names text/csv: a header row, one row per table row, RFC
// 4180 (CRLF line ends, quotes where needed), money as plain decimals,
// names in the ?lang= language, and cells that a spreadsheet would take
// for a formula neutralised.

// wantCSV reports whether r asks for CSV: ?format=csv, or no format and
// an Accept header naming text/csv. Another format is a bad request.
func wantCSV(w http.ResponseWriter, r *http.Request) (csv, ok bool) {
	switch f := r.URL.Query().Get("format"); f {
	case "csv":
		return true, true
	case "json":
		return false, true
	case "":
		for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
			if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/csv" {
				return true, true
			}
		}
		return false, true
	default:
		badParam(w, r, "format", f, "json or csv")
		return false, false
	}
}

// langParam reads ?lang= (en, the default, or ar).
func langParam(w http.ResponseWriter, r *http.Request) (souq.Lang, bool) {
	switch l := r.URL.Query().Get("lang"); l {
	case "", "en":
		return souq.English, true
	case "ar":
		return souq.Arabic, true
	default:
		badParam(w, r, "lang", l, "en or ar")
		return "", false
	}
}

// badParam answers 400 naming the parameter and what it accepts.
func badParam(w http.ResponseWriter, r *http.Request, name, got, accepted string) {
	writeProblem(w, r, http.StatusBadRequest, "bad-request", name+" must be "+accepted+", not "+strconv.Quote(got))
}

// number matches a cell that is a plain number, which stays as it is
// even when it starts with a minus sign.
var number = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// neutralise keeps a spreadsheet from reading a cell as a formula: a cell
// that starts with = + - @, a tab or a carriage return, and is not a
// plain number, gets a leading apostrophe (OWASP's advice).
func neutralise(cell string) string {
	if cell == "" || !strings.ContainsRune("=+-@\t\r", rune(cell[0])) || number.MatchString(cell) {
		return cell
	}
	return "'" + cell
}

// writeCSV answers a table as CSV named souq-<table>-<UTC time>.csv.
func writeCSV(w http.ResponseWriter, table string, at time.Time, header []string, rows [][]string) {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.UseCRLF = true
	_ = cw.Write(header)
	for _, row := range rows {
		for i, c := range row {
			row[i] = neutralise(c)
		}
		_ = cw.Write(row)
	}
	cw.Flush()
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+csvName(table, at)+`"`)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// csvName is the file name of a table exported at at.
func csvName(table string, at time.Time) string {
	return "souq-" + table + "-" + at.UTC().Format("20060102T150405Z") + ".csv"
}

// Cell formats.

func aedCell(fils int64) string { return souq.M(fils, souq.AED).Decimal() }

func intCell[T ~int | ~int64](n T) string { return strconv.FormatInt(int64(n), 10) }

func floatCell(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func timeCell(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func ptrCell(f *float64) string {
	if f == nil {
		return ""
	}
	return floatCell(*f)
}

func boolCell(b bool) string { return strconv.FormatBool(b) }
