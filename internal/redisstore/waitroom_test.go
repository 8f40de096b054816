package redisstore

import (
	"testing"

	"github.com/souq-commerce/souq/internal/waitroom"
	"github.com/souq-commerce/souq/internal/waitroom/waitroomtest"
)

func TestWaitingRoom(t *testing.T) {
	s := openTest(t, Options{})
	waitroomtest.Run(t, func(t *testing.T) waitroom.State {
		prefix := "wr-" + randomPrefix()
		t.Cleanup(func() { deleteKeys(t, s, "{"+prefix+":*") })
		return NewWaitingRoom(s, prefix)
	})
}
