package workpool

import (
	"sync/atomic"
	"testing"
)

// TestStopWaitsChannelFed feeds workers through a channel: after close and
// Stop every item has been handled and every worker has returned.
func TestStopWaitsChannelFed(t *testing.T) {
	var p Pool
	items := make(chan int, 4)
	var sum, running atomic.Int64
	p.Start(3, func() {
		running.Add(1)
		defer running.Add(-1)
		for v := range items {
			sum.Add(int64(v))
		}
	})
	for v := 1; v <= 100; v++ {
		items <- v
	}
	close(items)
	p.Stop()
	if got := sum.Load(); got != 5050 {
		t.Errorf("sum of the items handled = %d, want 5050", got)
	}
	if n := running.Load(); n != 0 {
		t.Errorf("%d workers still running after Stop", n)
	}
}

// TestStopWakesWaiters has workers wait on the pool's condition for work
// that never comes: Stop must wake them, and return once they have ended.
func TestStopWakesWaiters(t *testing.T) {
	var p Pool
	var ended atomic.Int64
	p.Start(4, func() {
		p.Lock()
		for !p.Stopped() {
			p.Wait()
		}
		p.Unlock()
		ended.Add(1)
	})
	p.Stop() // some workers may be in Wait, some not started yet
	if n := ended.Load(); n != 4 {
		t.Errorf("%d of 4 workers ended by the time Stop returned", n)
	}
	p.Lock()
	stopped := p.Stopped()
	p.Unlock()
	if !stopped {
		t.Error("Stopped is false after Stop")
	}
}
