package souq

import "testing"

func TestEventSubject(t *testing.T) {
	tests := []struct {
		e    Event
		want string
	}{
		{Event{Type: "track", Event: "Order Completed"}, "souq.events.track.order_completed"},
		{Event{Type: "track", Event: "Products Searched"}, "souq.events.track.products_searched"},
		{Event{Type: "track", Event: "  Weird--Name!! 2 "}, "souq.events.track.weird_name_2"},
		{Event{Type: "track", Event: "عربي"}, "souq.events.track.unnamed"},
		{Event{Type: "page", Name: "Home"}, "souq.events.page"},
		{Event{Type: "identify"}, "souq.events.identify"},
	}
	for _, tt := range tests {
		if got := tt.e.Subject(); got != tt.want {
			t.Errorf("Subject(%q %q): got %q, want %q", tt.e.Type, tt.e.Event, got, tt.want)
		}
	}
}
