package interpreter

// step_loop.go: loop.break and loop.continue (§6.1.5). Both complete with
// no output and raise a signal that the innermost foreach/while consumes:
// break ends the loop, continue ends the iteration.

func init() {
	define("loop.break", true, func(c *call) (any, error) { return nil, &loopSignal{brk: true} })
	define("loop.continue", true, func(c *call) (any, error) { return nil, &loopSignal{} })
}
