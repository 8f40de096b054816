package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/souq-commerce/souq/internal/fileblob"
	"github.com/souq-commerce/souq/internal/souq"
)

// photo is a w × h JPEG: a red half and a blue half.
func photo(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{200, 30, 30, 255}
			if x >= w/2 {
				c = color.RGBA{30, 30, 200, 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withExif inserts an APP1 Exif segment (with a GPS-like marker string)
// after the JPEG's SOI marker.
func withExif(jpg []byte) []byte {
	payload := append([]byte("Exif\x00\x00"), []byte("GPSLatitude 25.2048 secret-camera-serial")...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}

// pngHeader is a PNG whose header claims w × h pixels and that has no
// pixel data: DecodeConfig reads it, Decode would fail.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk := append([]byte("IHDR"), ihdr...)
	_ = binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.Write(chunk)
	_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func TestProcess(t *testing.T) {
	in := withExif(photo(t, 1200, 800))
	if !bytes.Contains(in, []byte("secret-camera-serial")) {
		t.Fatal("the test photo lacks its Exif segment")
	}
	p, err := Process(in)
	if err != nil {
		t.Fatal(err)
	}
	var widths []int
	for _, r := range p.Renditions {
		widths = append(widths, r.Width)
		if bytes.Contains(r.Data, []byte("Exif")) || bytes.Contains(r.Data, []byte("secret-camera-serial")) {
			t.Errorf("the %d px rendition keeps the upload's metadata", r.Width)
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(r.Data))
		if h := (r.Width*800 + 600) / 1200; err != nil || format != "jpeg" || cfg.Width != r.Width || cfg.Height != h {
			t.Errorf("%d px rendition: got %s %d × %d (%v), want a jpeg %d × %d", r.Width, format, cfg.Width, cfg.Height, err, r.Width, h)
		}
	}
	if want := []int{320, 640, 1024}; !slicesEqual(widths, want) {
		t.Errorf("widths: got %v, want %v", widths, want)
	}
	if p.Width != 1024 || p.Height != 683 || len(p.Hash) != 32 {
		t.Errorf("got %d × %d hash %q, want 1024 × 683 and a 32-digit hash", p.Width, p.Height, p.Hash)
	}
	// The left of the largest rendition is still red, the right blue.
	img, _ := jpeg.Decode(bytes.NewReader(p.Renditions[2].Data))
	if r, _, b, _ := img.At(100, 300).RGBA(); r>>8 < 150 || b>>8 > 100 {
		t.Errorf("left half: got r=%d b=%d, want red", r>>8, b>>8)
	}

	// A photo narrower than every width gets one rendition at its width,
	// never scaled up.
	if p, err := Process(photo(t, 300, 300)); err != nil || len(p.Renditions) != 1 || p.Renditions[0].Width != 300 {
		t.Errorf("300 px photo: got %+v %v, want one 300 px rendition", p.Renditions, err)
	}
	// A transparent PNG lands on white.
	clear := image.NewNRGBA(image.Rect(0, 0, 400, 400))
	var pngBuf bytes.Buffer
	_ = png.Encode(&pngBuf, clear)
	if p, err := Process(pngBuf.Bytes()); err != nil {
		t.Errorf("PNG: %v", err)
	} else if img, _ := jpeg.Decode(bytes.NewReader(p.Renditions[0].Data)); img != nil {
		if r, g, b, _ := img.At(10, 10).RGBA(); r>>8 < 250 || g>>8 < 250 || b>>8 < 250 {
			t.Errorf("transparent PNG: got (%d,%d,%d), want white", r>>8, g>>8, b>>8)
		}
	}
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestProcessRefuses(t *testing.T) {
	var gifBuf bytes.Buffer
	_ = gif.Encode(&gifBuf, image.NewPaletted(image.Rect(0, 0, 300, 300), []color.Color{color.White}), nil)
	tests := []struct {
		name string
		data []byte
		kind error
		want string
	}{
		{"larger than MaxBytes", make([]byte, MaxBytes+1), ErrTooLarge, "at most"},
		{"not an image", []byte("hello, this is text"), ErrType, "JPEG or PNG"},
		{"a GIF", gifBuf.Bytes(), ErrType, "JPEG or PNG"},
		{"too small", photo(t, 150, 400), souq.ErrInvalid, "at least 200"},
		{"too many pixels, refused before decoding", pngHeader(10000, 10000), souq.ErrInvalid, "at most 40000000 pixels"},
		{"a header without pixels", pngHeader(400, 400), souq.ErrInvalid, "does not decode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Process(tt.data)
			var e *souq.Error
			if !errors.As(err, &e) || !errors.Is(e.Kind, tt.kind) || !strings.Contains(e.Detail, tt.want) {
				t.Errorf("got %v, want a %v error saying %q", err, tt.kind, tt.want)
			}
		})
	}
}

func TestLibrary(t *testing.T) {
	dir, err := fileblob.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	lib := NewLibrary(dir)
	img, err := lib.Store(t.Context(), "prd_abc123", photo(t, 800, 800))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(img.Key, "products/prd_abc123/") || !slicesEqual(img.Widths, []int{320, 640}) || img.Width != 640 {
		t.Fatalf("stored image: got %+v, want key under products/prd_abc123/, widths 320 and 640", img)
	}
	if got := SrcSet(img); got != URL(img, 320)+" 320w, "+URL(img, 640)+" 640w" {
		t.Errorf("SrcSet: got %q", got)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /media/{path...}", lib.Handler())
	get := func(path string, header ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec
	}
	rec := get(URL(img, 640))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "image/jpeg" || !strings.Contains(rec.Header().Get("Cache-Control"), "immutable") {
		t.Fatalf("GET rendition: got %d %v", rec.Code, rec.Header())
	}
	if cfg, _, err := image.DecodeConfig(rec.Body); err != nil || cfg.Width != 640 {
		t.Errorf("served rendition: %v %+v, want 640 px wide", err, cfg)
	}
	etag := rec.Header().Get("ETag")
	head := httptest.NewRequest("HEAD", URL(img, 640), nil)
	headRec := httptest.NewRecorder()
	mux.ServeHTTP(headRec, head)
	if headRec.Code != 200 || headRec.Body.Len() != 0 || headRec.Header().Get("Content-Length") == "0" {
		t.Errorf("HEAD rendition: got %d, %d bytes of body, Content-Length %q; want 200, no body, the length",
			headRec.Code, headRec.Body.Len(), headRec.Header().Get("Content-Length"))
	}
	if rec := get(URL(img, 640), "If-None-Match", etag); rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: got %d, want 304", rec.Code)
	}
	for _, path := range []string{"/media/products/prd_abc123/" + strings.Repeat("0", 32) + "-640.jpg", "/media/products/x.jpg", "/media/other/file"} {
		if rec := get(path); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: got %d, want 404", path, rec.Code)
		}
	}
	if rec := get("/media/../../etc/passwd"); rec.Code == http.StatusOK {
		t.Errorf("GET /media/../../etc/passwd: got 200")
	}
}
