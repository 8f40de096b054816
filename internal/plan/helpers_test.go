package plan

import (
	"encoding/json"
	"strconv"
)

func itoa(v int64) string                 { return strconv.FormatInt(v, 10) }
func ftoa(v float64) string               { return strconv.FormatFloat(v, 'f', -1, 64) }
func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
