package httpapi

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"strings"
	"testing"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/media"
)

// jpegOf is a w × h JPEG of one colour.
func jpegOf(t *testing.T, w, h int, c color.Color) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestProductImages: an admin uploads photos (JPEG or PNG bodies); the
// product's API view lists them with their renditions; bad uploads get
// 415, 413, 422 or 404 problems; a photo is deleted by its position.
func TestProductImages(t *testing.T) {
	f := newFixture(t)
	p := f.product(5, 8900)
	path := "/api/v1/admin/products/" + string(p.ID) + "/images"
	upload := func(body []byte, contentType string) (int, []byte) {
		t.Helper()
		status, _, out := f.do("POST", path, body, "Authorization", "Bearer "+testAdminToken, "Content-Type", contentType)
		return status, out
	}
	red := jpegOf(t, 1200, 1200, color.RGBA{200, 0, 0, 255})
	if status, body := upload(red, "image/jpeg"); status != 201 {
		t.Fatalf("upload: got %d %s", status, body)
	}
	if status, body := upload(red, "image/jpeg"); status != 201 || strings.Count(string(body), `"key"`) != 1 {
		t.Errorf("the same photo again: got %d %s, want 201 and still one image", status, body)
	}
	blue := jpegOf(t, 600, 400, color.RGBA{0, 0, 200, 255})
	if status, body := upload(blue, "image/jpeg; charset=binary"); status != 201 {
		t.Fatalf("second upload: got %d %s", status, body)
	}
	_, _, body := f.do("GET", "/api/v1/products/"+string(p.ID), nil)
	got := decodeJSON[struct {
		Images []struct {
			URL           string
			Width, Height int
			SrcSet        string
		}
	}](t, body)
	if len(got.Images) != 2 {
		t.Fatalf("product images: got %d, want 2: %s", len(got.Images), body)
	}
	first, second := got.Images[0], got.Images[1]
	if first.Width != 1024 || first.Height != 1024 || !strings.HasSuffix(first.URL, "-1024.jpg") ||
		strings.Count(first.SrcSet, "w, ") != 2 || !strings.HasPrefix(first.URL, "/media/products/"+string(p.ID)+"/") {
		t.Errorf("first image: got %+v, want 1024 × 1024 in three widths under /media/products/%s/", first, p.ID)
	}
	if second.Width != 320 || second.Height != 213 || strings.Contains(second.SrcSet, ", ") {
		t.Errorf("second image (600 px wide): got %+v, want one 320 px rendition", second)
	}

	tests := []struct {
		name        string
		path        string
		body        []byte
		contentType string
		status      int
	}{
		{"not an image type", path, []byte("hello"), "text/plain", 415},
		{"says JPEG, is text", path, []byte("hello, this is not a photo"), "image/jpeg", 415},
		{"too small", path, jpegOf(t, 100, 100, color.White), "image/jpeg", 422},
		{"larger than the limit", path, make([]byte, media.MaxBytes+1), "image/jpeg", 413},
		{"no such product", "/api/v1/admin/products/prd_missing000000000000/images", red, "image/jpeg", 404},
	}
	for _, tt := range tests {
		status, h, body := f.do("POST", tt.path, tt.body, "Authorization", "Bearer "+testAdminToken, "Content-Type", tt.contentType)
		if status != tt.status || !strings.HasPrefix(h.Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s: got %d %s %s, want %d problem+json", tt.name, status, h.Get("Content-Type"), body, tt.status)
		}
	}
	if status, _, _ := f.do("POST", path, red, "Content-Type", "image/jpeg"); status != 401 {
		t.Errorf("upload without the admin token: got %d, want 401", status)
	}

	// A product holds at most catalog.MaxImages photos: the next is a 409.
	full := f.product(1, 1000)
	fullPath := "/api/v1/admin/products/" + string(full.ID) + "/images"
	for i := range catalog.MaxImages {
		if status, _, body := f.do("POST", fullPath, jpegOf(t, 200, 200, color.RGBA{uint8(20 * i), 100, 100, 255}),
			"Authorization", "Bearer "+testAdminToken, "Content-Type", "image/jpeg"); status != 201 {
			t.Fatalf("photo %d: got %d %s", i+1, status, body)
		}
	}
	if status, h, body := f.do("POST", fullPath, jpegOf(t, 200, 200, color.White),
		"Authorization", "Bearer "+testAdminToken, "Content-Type", "image/jpeg"); status != 409 || !strings.HasPrefix(h.Get("Content-Type"), "application/problem+json") {
		t.Errorf("photo %d: got %d %s, want a 409 problem", catalog.MaxImages+1, status, body)
	}

	status, body := f.admin("DELETE", path+"/0", nil)
	if status != 200 || strings.Count(string(body), `"key"`) != 1 || !strings.Contains(string(body), `"width":320`) {
		t.Errorf("delete the first: got %d %s, want the second left", status, body)
	}
	if status, _ := f.admin("DELETE", path+"/5", nil); status != 404 {
		t.Errorf("delete a missing position: got %d, want 404", status)
	}
}
