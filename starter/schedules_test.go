package starter

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
)

func rng(v ...int) []client.ScheduleRange { return ranges(v) }

func TestScheduleSpec(t *testing.T) {
	dt := "2025-01-01T09:00:00.000Z"
	tests := []struct {
		name string
		with map[string]any
		want client.ScheduleSpec
		note string
	}{
		{"every 15m", map[string]any{"every": "15m"},
			client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: 15 * time.Minute}}}, "every 15m"},
		{"every 1d", map[string]any{"every": "1d"},
			client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: 24 * time.Hour}}}, "every 1d"},
		{"weekly byweekday/byhour/byminute (corpus)", map[string]any{"rrule": map[string]any{
			"freq": "WEEKLY", "interval": 1, "byweekday": []any{"WE"}, "byhour": []any{8}, "byminute": []any{0}, "tzid": "UTC"}},
			client.ScheduleSpec{TimeZoneName: "UTC", Calendars: []client.ScheduleCalendarSpec{{
				Second: rng(0), Hour: rng(8), Minute: rng(0), DayOfWeek: rng(3)}}},
			"FREQ=WEEKLY;BYDAY=WE;BYHOUR=8;BYMINUTE=0 (UTC)"},
		{"daily with tzid and Z dtstart (corpus): hour from dtstart in tzid", map[string]any{"rrule": map[string]any{
			"freq": "DAILY", "interval": 1.0, "tzid": "Etc/GMT+2", "dtstart": dt}},
			client.ScheduleSpec{TimeZoneName: "Etc/GMT+2", StartAt: time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC),
				Calendars: []client.ScheduleCalendarSpec{{Second: rng(0), Hour: rng(7), Minute: rng(0)}}},
			"FREQ=DAILY;BYHOUR=7;BYMINUTE=0 (Etc/GMT+2) from 2025-01-01T09:00:00Z"},
		{"monthly by month day, several hours", map[string]any{"rrule": map[string]any{
			"freq": "MONTHLY", "bymonthday": []any{15, 1}, "byhour": []any{18, 6}, "tzid": "Europe/Paris"}},
			client.ScheduleSpec{TimeZoneName: "Europe/Paris", Calendars: []client.ScheduleCalendarSpec{{
				Second: rng(0), Hour: rng(6, 18), Minute: rng(0), DayOfMonth: rng(1, 15)}}},
			"FREQ=MONTHLY;BYMONTHDAY=1,15;BYHOUR=6,18;BYMINUTE=0 (Europe/Paris)"},
		{"monthly every 3 months from dtstart's month", map[string]any{"rrule": map[string]any{
			"freq": "MONTHLY", "interval": 3, "dtstart": "2025-02-10T12:30:00Z"}},
			client.ScheduleSpec{TimeZoneName: "UTC", StartAt: time.Date(2025, 2, 10, 12, 30, 0, 0, time.UTC),
				Calendars: []client.ScheduleCalendarSpec{{Second: rng(0), Hour: rng(12), Minute: rng(30),
					DayOfMonth: rng(10), Month: []client.ScheduleRange{{Start: 2, End: 12, Step: 3}}}}},
			"FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=10;BYHOUR=12;BYMINUTE=30 (UTC) from 2025-02-10T12:30:00Z"},
		{"weekly with time.Time dtstart and no byweekday uses its weekday", map[string]any{"rrule": map[string]any{
			"freq": "WEEKLY", "dtstart": time.Date(2026, 1, 7, 9, 15, 0, 0, time.UTC)}}, // a Wednesday
			client.ScheduleSpec{TimeZoneName: "UTC", StartAt: time.Date(2026, 1, 7, 9, 15, 0, 0, time.UTC),
				Calendars: []client.ScheduleCalendarSpec{{Second: rng(0), Hour: rng(9), Minute: rng(15), DayOfWeek: rng(3)}}},
			"FREQ=WEEKLY;BYDAY=WE;BYHOUR=9;BYMINUTE=15 (UTC) from 2026-01-07T09:15:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, note, err := ScheduleSpec(tc.with)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("spec =\n%+v\nwant\n%+v", got, tc.want)
			}
			if note != tc.note {
				t.Errorf("note = %q, want %q", note, tc.note)
			}
		})
	}
}

func TestScheduleSpecIntervalRRule(t *testing.T) {
	// Every 2 days at 09:00 UTC from 2025-01-01: fires at 2025-01-01T09:00Z + k*48h.
	spec, _, err := ScheduleSpec(map[string]any{"rrule": map[string]any{"freq": "DAILY", "interval": 2, "dtstart": "2025-01-01T09:00:00Z"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Intervals) != 1 || spec.Intervals[0].Every != 48*time.Hour {
		t.Fatalf("intervals = %+v", spec.Intervals)
	}
	first := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	if off := time.Duration(first.Unix()%int64((48*time.Hour).Seconds())) * time.Second; off != spec.Intervals[0].Offset {
		t.Errorf("offset = %v, want %v", spec.Intervals[0].Offset, off)
	}
	// Every 2 weeks on MO and FR at 8 → two intervals of 14 days.
	spec, _, err = ScheduleSpec(map[string]any{"rrule": map[string]any{"freq": "WEEKLY", "interval": 2, "byweekday": []any{"MO", "FR"}, "byhour": 8, "dtstart": "2025-01-06T00:00:00Z"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Intervals) != 2 || spec.Intervals[0].Every != 14*24*time.Hour {
		t.Errorf("weekly intervals = %+v", spec.Intervals)
	}
}

func TestScheduleSpecErrors(t *testing.T) {
	tests := []struct {
		name string
		with map[string]any
		want string
	}{
		{"nothing", map[string]any{}, "needs with.every or with.rrule"},
		{"bad every", map[string]any{"every": "5 minutes"}, "every"},
		{"bad freq", map[string]any{"rrule": map[string]any{"freq": "HOURLY"}}, "rrule.freq"},
		{"bad tz", map[string]any{"rrule": map[string]any{"freq": "DAILY", "tzid": "Mars/Olympus"}}, "rrule.tzid"},
		{"bad hour", map[string]any{"rrule": map[string]any{"freq": "DAILY", "byhour": []any{24}}}, "byhour"},
		{"bad weekday", map[string]any{"rrule": map[string]any{"freq": "WEEKLY", "byweekday": []any{"XX"}}}, "byweekday"},
		{"unknown field", map[string]any{"rrule": map[string]any{"freq": "DAILY", "count": 3}}, "unsupported field"},
		{"monthly interval 5", map[string]any{"rrule": map[string]any{"freq": "MONTHLY", "interval": 5}}, "does not divide 12"},
		{"bad dtstart", map[string]any{"rrule": map[string]any{"freq": "DAILY", "dtstart": "yesterday"}}, "dtstart"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ScheduleSpec(tc.with)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
