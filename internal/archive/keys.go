package archive

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Key layout; see the package documentation.
const (
	rootPrefix     = "events/"
	manifestPrefix = rootPrefix + "_manifests/"
	dataFilePrefix = "events-"
	dataFileSuffix = ".parquet"
	manifestSuffix = ".json"
	seqDigits      = 20 // enough for any uint64
)

// seqRange is the stream sequence range of one batch.
type seqRange struct{ first, last uint64 }

func (r seqRange) String() string { return fmt.Sprintf("%020d-%020d", r.first, r.last) }

// partition returns the Hive partition path of an event time:
// "dt=YYYY-MM-DD/hour=HH".
func partition(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("dt=%04d-%02d-%02d/hour=%02d", t.Year(), t.Month(), t.Day(), t.Hour())
}

// dataKey is the key of a batch's file in one partition.
func dataKey(part string, r seqRange) string {
	return rootPrefix + part + "/" + dataFilePrefix + r.String() + dataFileSuffix
}

// manifestKey is the key of a batch's manifest.
func manifestKey(r seqRange) string {
	return manifestPrefix + r.String() + manifestSuffix
}

// parseDataKey returns the batch range and the start of the partition hour
// of a data file key, and false for any other key.
func parseDataKey(key string) (seqRange, time.Time, bool) {
	rest, ok := strings.CutPrefix(key, rootPrefix)
	if !ok {
		return seqRange{}, time.Time{}, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return seqRange{}, time.Time{}, false
	}
	hour, err := time.Parse("dt=2006-01-02/hour=15", parts[0]+"/"+parts[1])
	if err != nil {
		return seqRange{}, time.Time{}, false
	}
	name, ok := strings.CutPrefix(parts[2], dataFilePrefix)
	if !ok {
		return seqRange{}, time.Time{}, false
	}
	name, ok = strings.CutSuffix(name, dataFileSuffix)
	if !ok {
		return seqRange{}, time.Time{}, false
	}
	r, ok := parseRange(name)
	if !ok {
		return seqRange{}, time.Time{}, false
	}
	return r, hour, true
}

// parseManifestKey returns the batch range of a manifest key, and false for
// any other key.
func parseManifestKey(key string) (seqRange, bool) {
	name, ok := strings.CutPrefix(key, manifestPrefix)
	if !ok {
		return seqRange{}, false
	}
	name, ok = strings.CutSuffix(name, manifestSuffix)
	if !ok {
		return seqRange{}, false
	}
	return parseRange(name)
}

// parseRange parses "<20 digits>-<20 digits>".
func parseRange(s string) (seqRange, bool) {
	a, b, ok := strings.Cut(s, "-")
	if !ok || len(a) != seqDigits || len(b) != seqDigits {
		return seqRange{}, false
	}
	first, err1 := strconv.ParseUint(a, 10, 64)
	last, err2 := strconv.ParseUint(b, 10, 64)
	if err1 != nil || err2 != nil || first > last {
		return seqRange{}, false
	}
	return seqRange{first, last}, true
}
