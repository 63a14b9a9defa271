package main

import (
	"bytes"
	"fmt"
	"math/bits"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

// clockTick is the unit of utime and stime in /proc/PID/stat (USER_HZ,
// 100 on every Linux architecture Go supports).
const clockTick = 10 * time.Millisecond

// procStats is a snapshot of the server process, read from /proc.
type procStats struct {
	CPU time.Duration // user + system time
	RSS int64         // resident set size, bytes
}

// readProc reads the CPU time and RSS of process pid. With pid 0 it returns
// zeros: the server is not observed.
func readProc(pid int) (procStats, error) {
	if pid <= 0 {
		return procStats{}, nil
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStats{}, err
	}
	// The command name, in parentheses, may hold spaces: fields start after
	// the last ')'. utime and stime are fields 14 and 15 (1-based), that is
	// 12 and 13 after the state field.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return procStats{}, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	f := bytes.Fields(stat[i+1:])
	if len(f) < 13 {
		return procStats{}, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	utime, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	stime, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return procStats{}, fmt.Errorf("/proc/%d/stat: malformed times", pid)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procStats{}, err
	}
	var rss int64
	for line := range bytes.SplitSeq(status, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			fs := bytes.Fields(v) // "123456 kB"
			if len(fs) > 0 {
				kb, err := strconv.ParseInt(string(fs[0]), 10, 64)
				if err == nil {
					rss = kb << 10
				}
			}
		}
	}
	return procStats{CPU: time.Duration(utime+stime) * clockTick, RSS: rss}, nil
}

// cpuBusy returns, for every CPU of /proc/stat, the time it was busy
// (neither idle nor waiting for I/O) since boot, in clock ticks.
func cpuBusy() []int64 {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil
	}
	var out []int64
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		f := bytes.Fields(line)
		if len(f) < 6 || !bytes.HasPrefix(f[0], []byte("cpu")) || len(f[0]) == 3 {
			continue
		}
		var busy int64
		for i, v := range f[1:] {
			n, _ := strconv.ParseInt(string(v), 10, 64)
			if i != 3 && i != 4 && i < 8 { // idle, iowait; guest is in user
				busy += n
			}
		}
		out = append(out, busy)
	}
	return out
}

// busyPercent returns how busy each CPU was between two cpuBusy readings.
func busyPercent(before, after []int64, el time.Duration) []float64 {
	if len(before) != len(after) || el <= 0 {
		return nil
	}
	out := make([]float64, len(before))
	for i := range before {
		out[i] = float64(time.Duration(after[i]-before[i])*clockTick) / float64(el) * 100
	}
	return out
}

// histogram is a lock-free latency histogram with about 3% resolution:
// 32 linear sub-buckets per power of two of nanoseconds.
type histogram struct {
	counts [64 * histSub]atomic.Int64
}

const histSub = 32

// bucket returns the index of the bucket of d.
func bucket(d time.Duration) int {
	ns := uint64(max(d, 0))
	if ns < histSub {
		return int(ns)
	}
	e := bits.Len64(ns) - 6 // ns >> e is in [32, 64)
	return (e+1)*histSub + int(ns>>uint(e)) - histSub
}

// lower returns the smallest duration of bucket i.
func lower(i int) time.Duration {
	if i < histSub {
		return time.Duration(i)
	}
	e := i/histSub - 1
	return time.Duration(uint64(i%histSub+histSub) << uint(e))
}

// add records d.
func (h *histogram) add(d time.Duration) { h.counts[bucket(d)].Add(1) }

// percentile returns the q-quantile (0..1) of what was recorded, 0 when
// nothing was: the middle of its bucket.
func (h *histogram) percentile(q float64) time.Duration {
	var total int64
	for i := range h.counts {
		total += h.counts[i].Load()
	}
	if total == 0 {
		return 0
	}
	rank := int64(q*float64(total-1)) + 1
	var seen int64
	for i := range h.counts {
		if seen += h.counts[i].Load(); seen >= rank {
			return (lower(i) + lower(i+1)) / 2
		}
	}
	return lower(len(h.counts) - 1)
}
