package main

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
)

// machine describes where the suite ran.
type machine struct {
	CPU        string  `json:"cpu"`
	Cores      int     `json:"cores"`
	MemoryGiB  float64 `json:"memory_gib"`
	Kernel     string  `json:"kernel"`
	OS         string  `json:"os"`
	Filesystem string  `json:"filesystem"` // of the scratch directory
	Reflink    bool    `json:"reflink"`
	Go         string  `json:"go"`
	Rsync      string  `json:"rsync"`
	Strace     string  `json:"strace,omitempty"`
	Gorsync    string  `json:"gorsync_commit"`
	// FastIO is GORSYNC_FASTIO as the gorsync runs saw it ("" = defaults).
	FastIO    string `json:"gorsync_fastio,omitempty"`
	Scratch   string `json:"scratch"`
	LoadStart string `json:"loadavg_start"` // /proc/loadavg when the suite started
	LoadEnd   string `json:"loadavg_end,omitempty"`
}

// loadavg returns the first three fields of /proc/loadavg.
func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func describeMachine(root string, e *env) machine {
	m := machine{
		CPU:       "unknown",
		Cores:     runtime.NumCPU(),
		Kernel:    firstLine(cmdOut("uname", "-sr")),
		Go:        firstLine(cmdOut("go", "version")),
		Rsync:     firstLine(cmdOut(e.rsync, "--version")),
		Reflink:   e.reflink,
		Scratch:   e.scratch,
		LoadStart: loadavg(),
		FastIO:    os.Getenv("GORSYNC_FASTIO"),
	}
	if e.strace != "" {
		m.Strace = firstLine(cmdOut(e.strace, "-V"))
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) == nil {
		m.MemoryGiB = float64(si.Totalram) * float64(si.Unit) / (1 << 30)
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
				m.OS = strings.Trim(v, `"`)
			}
		}
	}
	m.Filesystem = firstLine(cmdOut("df", "--output=fstype", e.scratch))
	if lines := strings.Split(strings.TrimSpace(cmdOut("df", "--output=fstype", e.scratch)), "\n"); len(lines) == 2 {
		m.Filesystem = strings.TrimSpace(lines[1])
	}
	commit := strings.TrimSpace(cmdOutDir(root, "git", "rev-parse", "--short=12", "HEAD"))
	if commit == "" {
		commit = "unknown"
	} else if strings.TrimSpace(cmdOutDir(root, "git", "status", "--porcelain", "--untracked-files=no")) != "" {
		commit += " (with uncommitted changes)"
	}
	m.Gorsync = commit
	return m
}

func cmdOut(name string, args ...string) string { return cmdOutDir("", name, args...) }

func cmdOutDir(dir, name string, args ...string) string {
	c := exec.Command(name, args...)
	c.Dir = dir
	out, _ := c.Output()
	return string(out)
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(l)
}
