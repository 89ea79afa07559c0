package stage

import (
	"io"
	"log/slog"
	"math"
	"strconv"
	"time"
)

// NewLogHandler is the one log format of every stage: slog's text (logfmt)
// lines, "time=2026-12-06T01:20:16Z level=INFO msg=... key=value", the time
// in UTC to the second, float values rounded to 4 significant digits (an
// accuracy prints 0.988, a loss 2.306, not 16 digits) and durations to the
// millisecond.
func NewLogHandler(w io.Writer) slog.Handler {
	return slog.NewTextHandler(w, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		v := a.Value
		switch v.Kind() {
		case slog.KindTime:
			a.Value = slog.StringValue(v.Time().UTC().Format(time.RFC3339))
		case slog.KindFloat64:
			a.Value = slog.StringValue(RoundFloat(v.Float64()))
		case slog.KindDuration:
			a.Value = slog.StringValue(v.Duration().Round(time.Millisecond).String())
		case slog.KindAny:
			if f, ok := v.Any().(float32); ok {
				a.Value = slog.StringValue(RoundFloat(float64(f)))
			}
		}
		return a
	}})
}

// RoundFloat formats f as the logs do: 4 significant digits, and whole
// numbers from 10000 on (12346, not 1.235e+04).
func RoundFloat(f float64) string {
	if a := math.Abs(f); a >= 1e4 && a < 1e15 {
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
	return strconv.FormatFloat(f, 'g', 4, 64)
}
