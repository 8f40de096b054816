package schemafiles

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0002_more.sql": {Data: []byte("two")},
		"m/0010_late.sql": {Data: []byte("ten")},
		"m/0001_init.sql": {Data: []byte("one")},
		"m/README.md":     {Data: []byte("not a migration")},
	}
	got, err := Load(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range got {
		names = append(names, f.Name+"="+f.SQL)
	}
	if want := "0001_init.sql=one 0002_more.sql=two 0010_late.sql=ten"; strings.Join(names, " ") != want {
		t.Errorf("got %v, want %s", names, want)
	}
	for name, bad := range map[string]fstest.MapFS{
		"unnumbered":     {"m/init.sql": {}},
		"version 0":      {"m/0000_zero.sql": {}},
		"shared version": {"m/0001_a.sql": {}, "m/0001_b.sql": {}},
		"empty":          {"m/README.md": {}},
	} {
		if _, err := Load(bad, "m"); err == nil {
			t.Errorf("%s: got nil error", name)
		}
	}
}
