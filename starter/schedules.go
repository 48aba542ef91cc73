package starter

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // rrule tzid must resolve in minimal containers too

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/secflow/secflow/internal/searchattr"
	"github.com/secflow/secflow/interpreter"
)

// SchedulePrefix starts the ID of every schedule secflow manages; other
// schedules of the namespace are never touched.
const SchedulePrefix = "secflow/"

// memo keys of a schedule's workflow action.
const (
	memoScheduleHash = "secflowSchedule"
	memoRevision     = "revision"
)

// ScheduleID is the schedule of a definition's trigger:
// "secflow/<definition id>/<trigger index>".
func ScheduleID(defID string, trigger int) string {
	return SchedulePrefix + defID + "/" + strconv.Itoa(trigger)
}

// Scheduler keeps Temporal Schedules in line with the `scheduled` triggers
// of the definitions.
type Scheduler struct {
	Client    client.Client
	Namespace string // informational (the client's namespace is used)
	TaskQueue string
	Logger    *slog.Logger
	// CatchupWindow is how late a missed action may still run after an
	// outage (default 5m: a schedule never replays a backlog).
	CatchupWindow time.Duration
	// DataConverter must be the client's (it decodes the schedule's memo;
	// default: the SDK default).
	DataConverter converter.DataConverter
}

// ScheduleChange is one action Reconcile took.
type ScheduleChange struct {
	ID     string `json:"id"`
	Action string `json:"action"` // created | updated | deleted
	Paused bool   `json:"paused"`
}

// desired is the schedule a trigger asks for.
type desired struct {
	id      string
	def     *interpreter.Definition
	trigger int
	spec    client.ScheduleSpec
	note    string
	paused  bool
	hash    string
}

// Desired computes the schedules the definitions ask for; triggers that
// cannot be converted are reported and skipped.
func desiredSchedules(defs []*interpreter.Definition, taskQueue string) ([]desired, []error) {
	var out []desired
	var errs []error
	for _, def := range defs {
		if def == nil {
			continue
		}
		for i, tr := range def.Triggers {
			if tr.Type != interpreter.TriggeredByScheduled {
				continue
			}
			spec, note, err := ScheduleSpec(tr.With)
			if err != nil {
				errs = append(errs, fmt.Errorf("definition %s trigger %d: %w", def.ID, i, err))
				continue
			}
			d := desired{id: ScheduleID(def.ID, i), def: def, trigger: i, spec: spec, note: note, paused: !def.Enabled}
			if d.paused {
				d.note += " (paused: definition disabled)"
			}
			b, _ := json.Marshal(map[string]any{"spec": spec, "taskQueue": taskQueue, "revision": def.Revision,
				"paused": d.paused, "note": d.note, "v": 1})
			sum := sha256.Sum256(b)
			d.hash = hex.EncodeToString(sum[:12])
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out, errs
}

func (sc *Scheduler) log() *slog.Logger {
	if sc.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return sc.Logger
}

func (sc *Scheduler) taskQueue() string {
	if sc.TaskQueue == "" {
		return interpreter.DefaultTaskQueue
	}
	return sc.TaskQueue
}

func (sc *Scheduler) action(d desired) *client.ScheduleWorkflowAction {
	name := d.def.Name
	if name == "" {
		name = d.def.ID
	}
	return &client.ScheduleWorkflowAction{
		ID:       d.def.ID + "/scheduled/" + strconv.Itoa(d.trigger),
		Workflow: d.def.ID,
		// No pinned definition: each scheduled run loads the revision current
		// when it starts (RunInput.Definition nil, see interpreter.RunInput).
		Args:      []any{interpreter.RunInput{TriggeredBy: interpreter.TriggeredByScheduled, SpaceID: defaultSpace}},
		TaskQueue: sc.taskQueue(),
		Memo:      map[string]any{memoScheduleHash: d.hash, memoRevision: d.def.Revision},
		TypedSearchAttributes: temporal.NewSearchAttributes(
			searchattr.WorkflowName.ValueSet(d.def.ID),
			searchattr.TriggerType.ValueSet(interpreter.TriggeredByScheduled),
		),
		StaticSummary: clip(name+" (scheduled: "+d.note+")", maxSummaryBytes),
	}
}

// Reconcile creates, updates and deletes schedules so that exactly the
// `scheduled` triggers of defs have one (ID ScheduleID), paused when their
// definition is disabled. known are IDs that may exist although listing
// does not show them yet (listing is eventually consistent). A schedule is
// updated only when its trigger, definition revision or enabled state
// changed, so an operator's manual pause survives until the next change.
// Errors of single schedules are joined; the others are still reconciled.
func (sc *Scheduler) Reconcile(ctx context.Context, defs []*interpreter.Definition, known []string) ([]ScheduleChange, error) {
	want, errs := desiredSchedules(defs, sc.taskQueue())
	var changes []ScheduleChange
	wanted := map[string]bool{}
	for _, d := range want {
		wanted[d.id] = true
		ch, err := sc.apply(ctx, d)
		if err != nil {
			errs = append(errs, fmt.Errorf("schedule %s: %w", d.id, err))
			continue
		}
		if ch != nil {
			changes = append(changes, *ch)
		}
	}
	existing, err := sc.listIDs(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	existing = append(existing, known...)
	sort.Strings(existing)
	for i, id := range existing {
		if wanted[id] || (i > 0 && existing[i-1] == id) {
			continue
		}
		err := sc.Client.ScheduleClient().GetHandle(ctx, id).Delete(ctx)
		var nf *serviceerror.NotFound
		switch {
		case errors.As(err, &nf):
		case err != nil:
			errs = append(errs, fmt.Errorf("deleting schedule %s: %w", id, err))
		default:
			sc.log().Info("schedule deleted", "scheduleId", id)
			changes = append(changes, ScheduleChange{ID: id, Action: "deleted"})
		}
	}
	return changes, errors.Join(errs...)
}

func (sc *Scheduler) apply(ctx context.Context, d desired) (*ScheduleChange, error) {
	h := sc.Client.ScheduleClient().GetHandle(ctx, d.id)
	desc, err := h.Describe(ctx)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		_, err := sc.Client.ScheduleClient().Create(ctx, client.ScheduleOptions{
			ID:            d.id,
			Spec:          d.spec,
			Action:        sc.action(d),
			Overlap:       enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
			CatchupWindow: sc.catchup(),
			Paused:        d.paused,
			Note:          d.note,
		})
		if err != nil {
			return nil, fmt.Errorf("creating: %w", err)
		}
		sc.log().Info("schedule created", "scheduleId", d.id, "definition", d.def.ID, "spec", d.note, "paused", d.paused)
		return &ScheduleChange{ID: d.id, Action: "created", Paused: d.paused}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describing: %w", err)
	}
	if act, ok := desc.Schedule.Action.(*client.ScheduleWorkflowAction); ok && memoString(sc.DataConverter, act.Memo[memoScheduleHash]) == d.hash {
		return nil, nil
	}
	err = h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		sched := in.Description.Schedule
		spec := d.spec
		sched.Spec = &spec
		sched.Action = sc.action(d)
		if sched.Policy == nil {
			sched.Policy = &client.SchedulePolicies{}
		}
		sched.Policy.Overlap = enumspb.SCHEDULE_OVERLAP_POLICY_SKIP
		sched.Policy.CatchupWindow = sc.catchup()
		if sched.State == nil {
			sched.State = &client.ScheduleState{}
		}
		sched.State.Paused = d.paused
		sched.State.Note = d.note
		return &client.ScheduleUpdate{Schedule: &sched}, nil
	}})
	if err != nil {
		return nil, fmt.Errorf("updating: %w", err)
	}
	sc.log().Info("schedule updated", "scheduleId", d.id, "definition", d.def.ID, "spec", d.note, "paused", d.paused)
	return &ScheduleChange{ID: d.id, Action: "updated", Paused: d.paused}, nil
}

func (sc *Scheduler) catchup() time.Duration {
	if sc.CatchupWindow > 0 {
		return sc.CatchupWindow
	}
	return 5 * time.Minute
}

func memoString(dc converter.DataConverter, v any) string {
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
	var s string
	switch x := v.(type) {
	case *commonpb.Payload:
		if dc.FromPayload(x, &s) != nil {
			return ""
		}
	case string:
		s = x
	}
	return s
}

func (sc *Scheduler) listIDs(ctx context.Context) ([]string, error) {
	it, err := sc.Client.ScheduleClient().List(ctx, client.ScheduleListOptions{PageSize: 1000})
	if err != nil {
		return nil, fmt.Errorf("listing schedules: %w", err)
	}
	var ids []string
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return ids, fmt.Errorf("listing schedules: %w", err)
		}
		if strings.HasPrefix(e.ID, SchedulePrefix) {
			ids = append(ids, e.ID)
		}
	}
	return ids, nil
}

// ScheduleInfo describes one managed schedule for `secflow schedules`.
type ScheduleInfo struct {
	ID         string      `json:"id"`
	Definition string      `json:"definition"`
	Trigger    int         `json:"trigger"`
	Spec       string      `json:"spec"`
	Paused     bool        `json:"paused"`
	Next       []time.Time `json:"next"`
	LastRun    *time.Time  `json:"lastRun,omitempty"`
	Runs       int         `json:"runs"`
}

// List describes every schedule secflow manages, sorted by ID.
func (sc *Scheduler) List(ctx context.Context) ([]ScheduleInfo, error) {
	ids, err := sc.listIDs(ctx)
	if err != nil {
		return nil, err
	}
	sort.Strings(ids)
	var out []ScheduleInfo
	for _, id := range ids {
		desc, err := sc.Client.ScheduleClient().GetHandle(ctx, id).Describe(ctx)
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("describing schedule %s: %w", id, err)
		}
		info := ScheduleInfo{ID: id, Next: desc.Info.NextActionTimes, Runs: desc.Info.NumActions}
		rest := strings.TrimPrefix(id, SchedulePrefix)
		if i := strings.LastIndex(rest, "/"); i >= 0 {
			info.Definition = rest[:i]
			info.Trigger, _ = strconv.Atoi(rest[i+1:])
		}
		if desc.Schedule.State != nil {
			info.Paused = desc.Schedule.State.Paused
			info.Spec = desc.Schedule.State.Note
		}
		if n := len(desc.Info.RecentActions); n > 0 {
			t := desc.Info.RecentActions[n-1].ActualTime
			info.LastRun = &t
		}
		out = append(out, info)
	}
	return out, nil
}

var everyRe = regexp.MustCompile(`^(\d+)([smhd])$`)

// ScheduleSpec converts the `with` of a scheduled trigger into a Temporal
// schedule spec and a one-line description:
//
//   - every: "<n>s|m|h|d" → an interval;
//   - rrule {freq: DAILY|WEEKLY|MONTHLY, interval, tzid (default UTC),
//     dtstart, byhour, byminute, byweekday (MO..SU), bymonthday} → calendar
//     specs in tzid. Missing byhour/byminute come from dtstart converted
//     into tzid (midnight without dtstart); WEEKLY without byweekday uses
//     dtstart's weekday (Monday without dtstart); MONTHLY without
//     bymonthday/byweekday uses dtstart's day (the 1st without dtstart).
//     dtstart is also the first instant the schedule may fire.
//     interval > 1: MONTHLY needs an interval dividing 12; DAILY and WEEKLY
//     become fixed intervals anchored at dtstart (they then keep the UTC
//     offset of dtstart across daylight-saving changes).
func ScheduleSpec(with map[string]any) (client.ScheduleSpec, string, error) {
	if e, ok := with["every"]; ok {
		s, _ := e.(string)
		m := everyRe.FindStringSubmatch(strings.TrimSpace(s))
		if m == nil {
			return client.ScheduleSpec{}, "", fmt.Errorf("every: %v is not <number><s|m|h|d>", e)
		}
		n, _ := strconv.Atoi(m[1])
		unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[m[2]]
		d := time.Duration(n) * unit
		if d < time.Second {
			return client.ScheduleSpec{}, "", fmt.Errorf("every: %s must be positive", s)
		}
		return client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: d}}}, "every " + s, nil
	}
	raw, ok := with["rrule"].(map[string]any)
	if !ok {
		return client.ScheduleSpec{}, "", errors.New("scheduled trigger needs with.every or with.rrule")
	}
	return rruleSpec(raw)
}

var weekdays = map[string]time.Weekday{"SU": time.Sunday, "MO": time.Monday, "TU": time.Tuesday,
	"WE": time.Wednesday, "TH": time.Thursday, "FR": time.Friday, "SA": time.Saturday}

func rruleSpec(r map[string]any) (client.ScheduleSpec, string, error) {
	var spec client.ScheduleSpec
	for k := range r {
		switch k {
		case "freq", "interval", "tzid", "dtstart", "byhour", "byminute", "byweekday", "bymonthday":
		default:
			return spec, "", fmt.Errorf("rrule: unsupported field %q", k)
		}
	}
	freq := strings.ToUpper(scalarString(r["freq"]))
	if freq != "DAILY" && freq != "WEEKLY" && freq != "MONTHLY" {
		return spec, "", fmt.Errorf("rrule.freq: %q is not DAILY, WEEKLY or MONTHLY", r["freq"])
	}
	interval := 1
	if v, ok := r["interval"]; ok {
		n, ok := intValue(v)
		if !ok || n < 1 {
			return spec, "", fmt.Errorf("rrule.interval: %v is not a positive integer", v)
		}
		interval = n
	}
	tz := "UTC"
	if s := scalarString(r["tzid"]); s != "" {
		tz = s
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return spec, "", fmt.Errorf("rrule.tzid: %w", err)
	}
	var start time.Time
	hasStart := false
	switch v := r["dtstart"].(type) {
	case nil:
	case time.Time:
		start, hasStart = v, true
	case string:
		start, err = time.Parse(time.RFC3339, v)
		if err != nil {
			return spec, "", fmt.Errorf("rrule.dtstart: %q is not an RFC 3339 time", v)
		}
		hasStart = true
	default:
		return spec, "", fmt.Errorf("rrule.dtstart: %v is not a time", v)
	}
	local := start.In(loc)
	hours, err := intList(r["byhour"], 0, 23, "byhour")
	if err != nil {
		return spec, "", err
	}
	minutes, err := intList(r["byminute"], 0, 59, "byminute")
	if err != nil {
		return spec, "", err
	}
	monthdays, err := intList(r["bymonthday"], 1, 31, "bymonthday")
	if err != nil {
		return spec, "", err
	}
	days, err := weekdayList(r["byweekday"])
	if err != nil {
		return spec, "", err
	}
	second := 0
	if hasStart {
		second = local.Second()
		if len(hours) == 0 {
			hours = []int{local.Hour()}
		}
		if len(minutes) == 0 {
			minutes = []int{local.Minute()}
		}
	}
	if len(hours) == 0 {
		hours = []int{0}
	}
	if len(minutes) == 0 {
		minutes = []int{0}
	}
	if freq == "WEEKLY" && len(days) == 0 {
		if hasStart {
			days = []int{int(local.Weekday())}
		} else {
			days = []int{int(time.Monday)}
		}
	}
	if freq == "MONTHLY" && len(monthdays) == 0 && len(days) == 0 {
		if hasStart {
			monthdays = []int{local.Day()}
		} else {
			monthdays = []int{1}
		}
	}
	desc := rruleText(freq, interval, hours, minutes, days, monthdays, tz)
	if hasStart {
		spec.StartAt = start
		desc += " from " + start.UTC().Format(time.RFC3339)
	}
	spec.TimeZoneName = tz
	if interval > 1 && freq != "MONTHLY" {
		if freq == "DAILY" && (len(days) > 0 || len(monthdays) > 0) {
			return client.ScheduleSpec{}, "", errors.New("rrule: DAILY with interval > 1 and byweekday/bymonthday is not supported")
		}
		if freq == "WEEKLY" && len(monthdays) > 0 {
			return client.ScheduleSpec{}, "", errors.New("rrule: WEEKLY with interval > 1 and bymonthday is not supported")
		}
		anchor := local
		if !hasStart {
			anchor = time.Date(1970, 1, 5, 0, 0, 0, 0, loc) // a Monday
		}
		period := time.Duration(interval) * 24 * time.Hour
		targets := []int{int(anchor.Weekday())}
		if freq == "WEEKLY" {
			period *= 7
			targets = days
		}
		for _, wd := range targets {
			day := anchor.AddDate(0, 0, (wd-int(anchor.Weekday())+7)%7)
			for _, h := range hours {
				for _, m := range minutes {
					at := time.Date(day.Year(), day.Month(), day.Day(), h, m, second, 0, loc)
					off := time.Duration(at.Unix()%int64(period.Seconds())) * time.Second
					spec.Intervals = append(spec.Intervals, client.ScheduleIntervalSpec{Every: period, Offset: off})
				}
			}
		}
		spec.TimeZoneName = ""
		return spec, desc, nil
	}
	cal := client.ScheduleCalendarSpec{
		Second: []client.ScheduleRange{{Start: second}},
		Hour:   ranges(hours),
		Minute: ranges(minutes),
	}
	if len(days) > 0 {
		cal.DayOfWeek = ranges(days)
	}
	if len(monthdays) > 0 {
		cal.DayOfMonth = ranges(monthdays)
	}
	if freq == "MONTHLY" && interval > 1 {
		if 12%interval != 0 {
			return client.ScheduleSpec{}, "", fmt.Errorf("rrule: MONTHLY interval %d does not divide 12 (unsupported)", interval)
		}
		first := 1
		if hasStart {
			first = (int(local.Month())-1)%interval + 1
		}
		cal.Month = []client.ScheduleRange{{Start: first, End: 12, Step: interval}}
	}
	spec.Calendars = []client.ScheduleCalendarSpec{cal}
	return spec, desc, nil
}

func rruleText(freq string, interval int, hours, minutes, days, monthdays []int, tz string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "FREQ=%s", freq)
	if interval > 1 {
		fmt.Fprintf(&b, ";INTERVAL=%d", interval)
	}
	if len(days) > 0 {
		names := make([]string, len(days))
		for i, d := range days {
			names[i] = strings.ToUpper(time.Weekday(d).String()[:2])
		}
		fmt.Fprintf(&b, ";BYDAY=%s", strings.Join(names, ","))
	}
	join := func(v []int) string {
		s := make([]string, len(v))
		for i, n := range v {
			s[i] = strconv.Itoa(n)
		}
		return strings.Join(s, ",")
	}
	if len(monthdays) > 0 {
		fmt.Fprintf(&b, ";BYMONTHDAY=%s", join(monthdays))
	}
	fmt.Fprintf(&b, ";BYHOUR=%s;BYMINUTE=%s (%s)", join(hours), join(minutes), tz)
	return b.String()
}

func ranges(v []int) []client.ScheduleRange {
	out := make([]client.ScheduleRange, len(v))
	for i, n := range v {
		out[i] = client.ScheduleRange{Start: n}
	}
	return out
}

func intValue(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int64:
		return int(x), true
	case float64:
		if x == float64(int(x)) {
			return int(x), true
		}
	case json.Number:
		n, err := strconv.Atoi(string(x))
		return n, err == nil
	case string:
		n, err := strconv.Atoi(x)
		return n, err == nil
	}
	return 0, false
}

// intList reads an int or list of ints within [lo, hi], sorted and unique.
func intList(v any, lo, hi int, field string) ([]int, error) {
	if v == nil {
		return nil, nil
	}
	items, ok := v.([]any)
	if !ok {
		items = []any{v}
	}
	seen := map[int]bool{}
	var out []int
	for _, it := range items {
		n, ok := intValue(it)
		if !ok || n < lo || n > hi {
			return nil, fmt.Errorf("rrule.%s: %v is not an integer in %d..%d", field, it, lo, hi)
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out, nil
}

// weekdayList reads MO..SU (or rrule.js numbers, 0 = Monday) as time.Weekday numbers.
func weekdayList(v any) ([]int, error) {
	if v == nil {
		return nil, nil
	}
	items, ok := v.([]any)
	if !ok {
		items = []any{v}
	}
	seen := map[int]bool{}
	var out []int
	for _, it := range items {
		var wd time.Weekday
		if s, ok := it.(string); ok {
			d, ok := weekdays[strings.ToUpper(strings.TrimSpace(s))]
			if !ok {
				return nil, fmt.Errorf("rrule.byweekday: %q is not one of MO, TU, WE, TH, FR, SA, SU", s)
			}
			wd = d
		} else if n, ok := intValue(it); ok && n >= 0 && n <= 6 {
			wd = time.Weekday((n + 1) % 7)
		} else {
			return nil, fmt.Errorf("rrule.byweekday: %v is not a weekday", it)
		}
		if !seen[int(wd)] {
			seen[int(wd)] = true
			out = append(out, int(wd))
		}
	}
	sort.Ints(out)
	return out, nil
}

// ReconcileSchedules brings the Temporal Schedules in line with the
// `scheduled` triggers of the current definitions (see Scheduler.Reconcile).
// Call it at start and whenever the definitions change.
func (s *Server) ReconcileSchedules(ctx context.Context) error {
	s.schedMu.Lock()
	defer s.schedMu.Unlock()
	known := make([]string, 0, len(s.schedKnown))
	for id := range s.schedKnown {
		known = append(known, id)
	}
	sc := &Scheduler{Client: s.cfg.Client, Namespace: s.cfg.Namespace, TaskQueue: s.cfg.TaskQueue, Logger: s.log, DataConverter: s.cfg.DataConverter}
	changes, err := sc.Reconcile(ctx, s.cfg.Definitions.All(), known)
	for _, c := range changes {
		action := c.Action
		s.metrics.schedules.WithLabelValues(action).Inc()
		if action == "deleted" {
			delete(s.schedKnown, c.ID)
		} else {
			s.schedKnown[c.ID] = true
		}
	}
	if err != nil {
		s.metrics.schedules.WithLabelValues("error").Inc()
		return fmt.Errorf("reconciling schedules: %w", err)
	}
	return nil
}

// definitionWatcher is the polling side of *defstore.Store.
type definitionWatcher interface {
	Watch(ctx context.Context, every time.Duration, onChange func())
}

// DefinitionsChanged tells RunScheduleReconciler that the definitions
// changed. It never blocks; pass it as (or call it from) the onChange
// callback of the store's Watch.
func (s *Server) DefinitionsChanged() {
	select {
	case s.defsChanged <- struct{}{}:
	default: // a reconciliation is already pending
	}
}

// RunScheduleReconciler reconciles the schedules once, then after every
// DefinitionsChanged, and retries a failed reconciliation every retryEvery
// (default 30s) until it succeeds. It blocks until ctx is done; run it in a
// goroutine. Alert routing and manual runs need nothing of the kind: they
// read the store on every request.
func (s *Server) RunScheduleReconciler(ctx context.Context, retryEvery time.Duration) {
	if retryEvery <= 0 {
		retryEvery = 30 * time.Second
	}
	s.DefinitionsChanged()
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.defsChanged:
		case <-retry:
		}
		retry = nil
		if err := s.ReconcileSchedules(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.log.Error("schedule reconciliation failed; retrying", "error", err, "retryIn", retryEvery.String())
			retry = time.After(retryEvery)
		}
	}
}

// WatchDefinitions polls Config.Definitions (a *defstore.Store, or anything
// with its Watch method) every pollEvery and keeps the schedules in line:
// Watch with DefinitionsChanged as callback, plus RunScheduleReconciler. It
// blocks until ctx is done. Do not also run another Watch on the same store:
// two pollers race for each change and only one of them reports it; if the
// process already watches the store, call DefinitionsChanged from that
// watch's callback and run RunScheduleReconciler instead.
func (s *Server) WatchDefinitions(ctx context.Context, pollEvery, retryEvery time.Duration) {
	if w, ok := s.cfg.Definitions.(definitionWatcher); ok {
		go w.Watch(ctx, pollEvery, func() {
			s.log.Info("definitions changed; reconciling schedules")
			s.DefinitionsChanged()
		})
	} else {
		s.log.Warn("definitions source cannot be watched; schedules follow DefinitionsChanged calls only")
	}
	s.RunScheduleReconciler(ctx, retryEvery)
}
