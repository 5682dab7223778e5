package e2e

import (
	"testing"

	"github.com/fleetdeck/fleetdeck/internal/sandbox/sandboxtest"
)

func TestMain(m *testing.M) { sandboxtest.Main(m) }
