package cli

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"go.uber.org/goleak"
)

// TestTUIRefusesNonTerminal: without a terminal on stdout the UI does not start, writes nothing
// to stdout and points to status, whatever else is wrong with the invocation.
func TestTUIRefusesNonTerminal(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"ui"},
		{"--readonly", "--theme", "light"},
		{"ui", "--config", "testdata/status/none.yaml"},
	} {
		t.Run(strings.Join(append([]string{"fleetdeck"}, args...), " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			streams := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, Getenv: testEnv(t)}
			if code := Main(streams, args); code != ExitError {
				t.Errorf("exit %d, want %d", code, ExitError)
			}
			if out.Len() != 0 {
				t.Errorf("stdout is not empty: %q", out.String())
			}
			for _, want := range []string{"needs a terminal", "fleetdeck status"} {
				if !strings.Contains(errOut.String(), want) {
					t.Errorf("stderr lacks %q: %q", want, errOut.String())
				}
			}
		})
	}
}

// TestTUIArgumentErrors: on a terminal, bad flags and configs fail with exit 2 before anything
// is drawn.
func TestTUIArgumentErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown theme", []string{"--theme", "solarized", "--config", "../config.example.yaml"}, `--theme "solarized": unknown theme (want one of dark, light, ansi16)`},
		{"unknown theme on ui", []string{"ui", "--theme", "pink"}, `--theme "pink"`},
		{"missing config", []string{"ui", "--config", "testdata/status/none.yaml"}, "none.yaml"},
		{"invalid config", []string{"--config", "testdata/config/unknown-key.yaml"}, "unknown-key.yaml"},
		{"extra argument", []string{"ui", "now"}, `unknown command "now"`},
		{"unknown verb", []string{"stauts"}, `unknown command "stauts"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			streams := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, Getenv: testEnv(t), OutIsTerminal: true}
			if code := Main(streams, tt.args); code != ExitError {
				t.Errorf("exit %d, want %d", code, ExitError)
			}
			if !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("stderr lacks %q: %q", tt.want, errOut.String())
			}
			if strings.Contains(out.String(), "\x1b[") {
				t.Errorf("the UI drew before failing: %q", out.String())
			}
		})
	}
}

// syncBuffer collects what the UI drew while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestTUIRunsAndQuits runs the whole verb in a pseudo-terminal against a cluster whose API
// server does not listen: the UI shows the cluster, quits on q or Ctrl-C with exit 0, and stops
// the engine, leaving no goroutine behind. Flags and NO_COLOR reach the screen.
func TestTUIRunsAndQuits(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		key     string
		want    []string
		notWant []string
		colour  bool
	}{
		{name: "no verb, q", key: "q", want: []string{"fleetdeck", "prod-eu"}, notWant: []string{"READ-ONLY"}, colour: true},
		{name: "ui, ctrl+c", args: []string{"ui"}, key: "\x03", want: []string{"fleetdeck", "prod-eu"}, colour: true},
		{name: "readonly", args: []string{"--readonly"}, key: "q", want: []string{"READ-ONLY", "prod-eu"}, colour: true},
		{name: "NO_COLOR", env: map[string]string{"NO_COLOR": "1"}, key: "q", want: []string{"prod-eu"}},
		{name: "no-color, theme light", args: []string{"--no-color", "--theme", "light"}, key: "q", want: []string{"prod-eu"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			_, cfg := copyWithKubeconfig(t, "unreachable", "unreachable.kubeconfig", "https://"+freePort(t))
			base := testEnv(t)
			getenv := func(k string) string {
				if v, ok := tt.env[k]; ok {
					return v
				}
				if k == "TERM" {
					return "xterm-256color"
				}
				return base(k)
			}
			master, tty, err := pty.Open()
			if err != nil {
				t.Skipf("no pseudo-terminal on this machine: %v", err)
			}
			if err := pty.Setsize(master, &pty.Winsize{Rows: 24, Cols: 100}); err != nil {
				t.Fatal(err)
			}
			var screen syncBuffer
			readDone := make(chan struct{})
			go func() {
				defer close(readDone)
				_, _ = io.Copy(&screen, master) // ends when master is closed
			}()
			var errOut syncBuffer
			streams := &IOStreams{In: tty, Out: tty, ErrOut: &errOut, Getenv: getenv, OutIsTerminal: true}
			done := make(chan int, 1)
			go func() { done <- Main(streams, append(append([]string{}, tt.args...), "--config", cfg)) }()
			defer func() {
				tty.Close()
				master.Close()
				<-readDone
			}()

			quit := func() {
				if _, err := io.WriteString(master, tt.key); err != nil {
					t.Fatal(err)
				}
				select {
				case code := <-done:
					if code != ExitOK {
						t.Errorf("exit %d, want 0; stderr: %s", code, errOut.String())
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("the UI did not quit on %q", tt.key)
				}
			}
			deadline := time.Now().Add(15 * time.Second)
			for !allIn(screen.String(), tt.want) {
				if time.Now().After(deadline) {
					quit()
					t.Fatalf("screen never showed %q:\n%q", tt.want, screen.String())
				}
				select {
				case code := <-done:
					t.Fatalf("exited %d before the screen showed %q; stderr: %s", code, tt.want, errOut.String())
				case <-time.After(20 * time.Millisecond):
				}
			}
			quit()
			if !strings.Contains(screen.String(), "\x1b[?1049l") {
				t.Error("the terminal was not given back: no exit from the alternate screen")
			}
			for _, s := range tt.notWant {
				if strings.Contains(screen.String(), s) {
					t.Errorf("screen contains %q", s)
				}
			}
			if got := colourSGR.MatchString(screen.String()); got != tt.colour {
				t.Errorf("colour sequences drawn: %v, want %v:\n%q", got, tt.colour, screen.String())
			}
		})
	}
}

// colourSGR matches a select-graphic-rendition sequence that sets a foreground or background
// colour (16, 256 or true colour); bold and reverse video alone do not match.
var colourSGR = regexp.MustCompile(`\x1b\[(?:[0-9]+;)*(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9]+)*m`)

func allIn(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
