package cases

import (
	"context"
	"net/http"
	"net/url"

	"go.temporal.io/sdk/activity"

	"github.com/secflow/secflow/interpreter/step"
)

const fComment = "comment"

var addCommentSpec = &step.Spec{

	Status:   step.StatusNewer,
	Type:     "cases.addComment",
	Kind:     step.KindActivity,
	Category: "cases",
	Summary:  "Add a user comment to a case (POST /api/cases/{id}/comments); output {case}.",
	Doc:      "Adds a Markdown user comment, owned by the case's owner. The output is the case with its comments.",
	Config:   []step.Field{pushField},
	With: []step.Field{
		caseIDField,
		{Name: fComment, Type: step.String, Required: true, Doc: "Comment text (Markdown)."},
	},
	Output:    step.Output{Doc: "The case after the comment was added.", Example: caseExample},
	Activity:  addComment,
	Timeout:   defaultTimeout,
	Heartbeat: true,
	Source:    "activities/cases/add_comment.go",
}

func init() { step.Register(addCommentSpec) }

func addComment(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	id, err := required(in, fCaseID)
	if err != nil {
		return nil, err
	}
	text, err := required(in, fComment)
	if err != nil {
		return nil, err
	}
	a, err := newAPI(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	retry := isRetry(ctx)
	cur, err := a.get(ctx, id, retry)
	if err != nil {
		return nil, err
	}
	if retry && hasUserComment(cur, text) {
		// An earlier attempt posted it and crashed before completing:
		// do not post the same comment twice.
		return caseOutput(cur), nil
	}
	owner, _ := cur["owner"].(string)
	out, err := a.call(ctx, http.MethodPost, "/api/cases/"+url.PathEscape(id)+"/comments", nil,
		map[string]any{"type": "user", "comment": text, "owner": owner})
	if err != nil {
		return nil, err
	}
	c, ok := out.(map[string]any)
	if !ok {
		return nil, step.Errorf("Error", "unexpected Cases API response adding a comment to case %s", id)
	}
	if c, err = a.push(ctx, in, c); err != nil {
		return nil, err
	}
	return caseOutput(c), nil
}

// isRetry reports whether this activity execution is a retry of an attempt
// that may already have posted. Comments cannot carry the idempotency key
// (Kibana shows their whole text), so only retries look for an identical
// comment: a different run adding the same text to a shared case still
// adds it. A variable so that tests can simulate a retried attempt.
var isRetry = func(ctx context.Context) bool {
	return activity.IsActivity(ctx) && activity.GetInfo(ctx).Attempt > 1
}

// hasUserComment reports whether c (fetched with its comments) already holds
// a user comment with exactly this text.
func hasUserComment(c map[string]any, text string) bool {
	comments, _ := c["comments"].([]any)
	for _, x := range comments {
		m, _ := x.(map[string]any)
		if m["type"] == "user" && m["comment"] == text {
			return true
		}
	}
	return false
}
