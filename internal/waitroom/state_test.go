package waitroom_test

import (
	"testing"

	"github.com/souq-commerce/souq/internal/waitroom"
	"github.com/souq-commerce/souq/internal/waitroom/waitroomtest"
)

func TestMemState(t *testing.T) {
	waitroomtest.Run(t, func(t *testing.T) waitroom.State { return waitroom.NewMemState() })
}
