package sync

import (
	"testing"

	"go.uber.org/goleak"
)

// Every Progress follower and request goroutine ends with its context: no test may leave one
// running.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
