package logs

import (
	"fmt"
	"time"
)

// Source is one container of one pod on one cluster: what a follower streams, and what every
// line it delivers is tagged with. It is comparable and serves as a map key.
type Source struct {
	Cluster   string
	Namespace string
	Pod       string
	Container string
}

func (s Source) String() string {
	return s.Cluster + "/" + s.Namespace + "/" + s.Pod + "/" + s.Container
}

// Kind says what an Entry is.
type Kind uint8

const (
	// KindLine is a log line of Source.
	KindLine Kind = iota
	// KindStart says Source's stream opened for the first time.
	KindStart
	// KindEnd says Source will deliver no more lines: the pod went away, the container is no
	// longer selected, its cluster forbids reading it, or (without Follow) its log was read.
	KindEnd
	// KindNotice is a message for the user about a cluster or a container (Source may be
	// partly empty): unreachable, forbidden, streaming again, too many streams.
	KindNotice
)

func (k Kind) String() string {
	switch k {
	case KindLine:
		return "line"
	case KindStart:
		return "start"
	case KindEnd:
		return "end"
	case KindNotice:
		return "notice"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Entry is what Stream delivers: a log line or an event of a stream. All text in it is
// sanitised: it holds no escape sequence, no control character (tabs and carriage returns
// become spaces) and no bidi override, so it may be written to a terminal as it is.
type Entry struct {
	Kind   Kind
	Source Source
	// Time is the line's timestamp as the container runtime recorded it (zero when the line
	// had none); for other kinds, when the event happened.
	Time time.Time
	// Text is the line without its timestamp or the message of an event. A line longer than
	// Options.MaxLineBytes ends with CutMarker.
	Text string
	// Cut counts the bytes of the line that were dropped (0 when the line is whole).
	Cut int
	// Problem marks notices that mean some logs are not shown (a cluster unreachable, pods/log
	// forbidden, more containers than Options.MaxStreams); a verb exits non-zero after one.
	Problem bool
}

// CutMarker ends the Text of a line that was cut; it names how many bytes were dropped.
func CutMarker(n int) string { return fmt.Sprintf(" …[%d bytes cut]", n) }
