package engine

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// BenchmarkHandoff hands files from a sender goroutine to a receiver that
// takes a little longer per file than the sender (as when the receiver
// creates and copies each file), and reports the voluntary context
// switches per file the two make (getrusage: the kernel's count for the
// process), which a waiting sender's wake-ups dominate.
func BenchmarkHandoff(b *testing.B) {
	f := openFiles(b, 1)[0]
	flush := func() error { return nil }
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	h := NewHandoff()
	defer h.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range b.N {
			for {
				if _, ok := h.take(int32(i)); ok {
					break
				}
				runtime.Gosched() // the index has not arrived yet
			}
			for start := time.Now(); time.Since(start) < 2*time.Microsecond; {
			}
		}
	}()
	b.ResetTimer()
	for i := range b.N {
		if !h.give(int32(i), f, flush, nil) {
			b.Fatal("give refused")
		}
	}
	<-done
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	b.ReportMetric(float64(after.Nvcsw-before.Nvcsw)/float64(b.N), "ctxsw/op")
}
