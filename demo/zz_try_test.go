package demo_test

import (
	"context"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/rapport-crm/rapport/demo"
)

func TestTry(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CUSTOMERS"))
	db, _ := open(t, sqlite())
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(0, &ru0)
	s, err := demo.Populate(context.Background(), db, demo.Config{Seed: 1, Customers: n, Now: now})
	syscall.Getrusage(0, &ru1)
	if err != nil {
		t.Fatal(err)
	}
	cpu := time.Duration(ru1.Utime.Nano() - ru0.Utime.Nano() + ru1.Stime.Nano() - ru0.Stime.Nano())
	t.Logf("%d moments; wall %v; cpu user %v sys %v; %.0f moments per cpu-second", s.Moments, s.Elapsed,
		time.Duration(ru1.Utime.Nano()-ru0.Utime.Nano()), time.Duration(ru1.Stime.Nano()-ru0.Stime.Nano()), float64(s.Moments)/cpu.Seconds())
}
