package engine

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gorsync/gorsync/internal/report"
)

// LogFile is --log-file: each message a line stamped with the time and
// the process id, escaped as rsync escapes its log. rsync: log.c logit
type LogFile struct {
	mu  sync.Mutex
	w   io.Writer
	pid int
}

// NewLogFile returns a LogFile writing to w.
func NewLogFile(w io.Writer) *LogFile { return &LogFile{w: w, pid: os.Getpid()} }

// Log records one message as one line (a newline inside is escaped).
func (f *LogFile) Log(msg string) {
	if f == nil || msg == "" {
		return
	}
	line := fmt.Sprintf("%s [%d] %s", report.TimeString(time.Now().Unix()), f.pid, report.LogFileEscaper.Escape(msg))
	if !strings.HasSuffix(line, "\n") {
		line += "\n"
	}
	f.mu.Lock()
	io.WriteString(f.w, line)
	f.mu.Unlock()
}

// logLines records msg line by line: gorsync's own errors may join
// several of rsync's messages in one.
func (f *LogFile) logLines(msg string) {
	for msg != "" {
		line := msg
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			line = msg[:i+1]
		}
		f.Log(line)
		msg = msg[len(line):]
	}
}

// logCode says where an entry's line goes, as rsync's log codes do.
type logCode uint8

const (
	logBoth   logCode = iota // FINFO: the terminal and the log file
	logClient                // FCLIENT: the terminal only
	logFile                  // FLOG: the log file only
)

// splitLogger is a Logger that can print to the terminal and record in
// the log file apart (the client's StderrLogger).
type splitLogger interface {
	Client(msg string)
	LogOnly(msg string)
}
