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

// manifestKey is the key of the manifest of the batch starting at
// sequence first. It names the first sequence only, so that two writers
// committing batches from the same sequence (with different ends) compete
// for one name, which Bucket.Create gives to one of them.
func manifestKey(first uint64) string {
	return fmt.Sprintf("%s%0*d%s", manifestPrefix, seqDigits, first, manifestSuffix)
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

// parseManifestKey returns the first sequence of a manifest's batch, and
// its last when the key names it (a manifest written before manifests were
// named by their first sequence only: "<first>-<last>.json"; 0 otherwise),
// and false for any other key.
func parseManifestKey(key string) (first, last uint64, ok bool) {
	name, ok := strings.CutPrefix(key, manifestPrefix)
	if !ok {
		return 0, 0, false
	}
	name, ok = strings.CutSuffix(name, manifestSuffix)
	if !ok {
		return 0, 0, false
	}
	if r, ok := parseRange(name); ok {
		return r.first, r.last, true
	}
	if len(name) != seqDigits {
		return 0, 0, false
	}
	first, err := strconv.ParseUint(name, 10, 64)
	if err != nil || first == 0 {
		return 0, 0, false
	}
	return first, 0, true
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
