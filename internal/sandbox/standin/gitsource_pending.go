//go:build !standin_render

package standin

// newEngineFromOptions needs gitstate/render and gitstate/treefs to read the
// monorepo; until they build, Install and Run report it.
func newEngineFromOptions(o Options) (*engine, error) {
	return nil, errNoRender
}
