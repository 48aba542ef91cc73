package cases

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// attachmentsPerPage is the page size getAllAttachments reads with.
const attachmentsPerPage = 100

var getAllAttachmentsSpec = &step.Spec{

	Status:   step.StatusNewer,
	Type:     "cases.getAllAttachments",
	Kind:     step.KindActivity,
	Category: "cases",
	Summary:  "List every attachment of a case (comments, alerts, events, actions); output {attachments}.",
	Doc: "Pages through `GET /api/cases/{id}/comments/_find` (100 a page, at most 10000 attachments) and " +
		"returns the attachments as Kibana's Cases API renders them.",
	With: []step.Field{caseIDField},
	Output: step.Output{Doc: "The attachments, oldest first.",
		Example: `{"attachments": [{"id": "c1", "type": "user", "comment": "Triage summary", "owner": "securitySolution",
	"created_at": "2025-01-01T00:00:00.000Z", "created_by": {"username": "elastic"}, "version": "WzIsMV0="},
	{"id": "c2", "type": "alert", "alertId": "a1", "index": ".alerts-security.alerts-default", "rule": {"id": "r1", "name": "Brute force"}, "owner": "securitySolution"}]}`},
	Activity:  getAllAttachments,
	Timeout:   defaultTimeout,
	Heartbeat: true,
	Source:    "activities/cases/get_all_attachments.go",
}

func init() { step.Register(getAllAttachmentsSpec) }

func getAllAttachments(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	id, err := required(in, fCaseID)
	if err != nil {
		return nil, err
	}
	a, err := newAPI(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	all := []any{}
	for page := 1; len(all) < 10000; page++ {
		q := url.Values{"page": {strconv.Itoa(page)}, "perPage": {strconv.Itoa(attachmentsPerPage)}, "sortOrder": {"asc"}}
		out, err := a.call(ctx, http.MethodGet, "/api/cases/"+url.PathEscape(id)+"/comments/_find", q, nil)
		if err != nil {
			return nil, err
		}
		m, _ := out.(map[string]any)
		got := asList(m["comments"])
		all = append(all, got...)
		total, _ := activitykit.Int(m["total"])
		if len(got) == 0 || int64(len(all)) >= total {
			break
		}
		activitykit.Heartbeat(ctx)
	}
	return map[string]any{"attachments": all}, nil
}
