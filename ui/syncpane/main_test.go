package syncpane

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a request the pane follows is still running after the
// tests: every context must end with the pane. teatest leaves one goroutine per program waiting
// for an interrupt signal for good; that one is its own.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/charmbracelet/x/exp/teatest/v2.NewTestModel.func2"))
}
