package cases

import (
	"context"
	"net/http"
	"net/url"

	"github.com/secflow/secflow/interpreter/step"
)

const fComment = "comment"

var addCommentSpec = &step.Spec{
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
	cur, err := a.get(ctx, id, false)
	if err != nil {
		return nil, err
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
