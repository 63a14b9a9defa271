package engine

import (
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// applyCORS writes the CORS headers for r. It reports true when r was a
// preflight request, which it has answered.
func applyCORS(c *CORSOptions, w http.ResponseWriter, r *http.Request) bool {
	if c == nil {
		return false
	}
	h := w.Header()
	origin := r.Header.Get("Origin")
	switch {
	case c.OriginFunc != nil:
		if origin != "" && c.OriginFunc(origin, r) {
			h.Set("Access-Control-Allow-Origin", origin)
		}
		h.Add("Vary", "Origin")
	case c.anyOrigin():
		// "*", with credentials too, as upstream's cors package: browsers
		// then refuse credentialed requests. Reflecting the origin instead
		// would let every site make them.
		h.Set("Access-Control-Allow-Origin", "*")
	default:
		wildcard := false
		for _, o := range c.Origin {
			if o == "*" {
				wildcard = true
			} else if o == origin && origin != "" {
				h.Set("Access-Control-Allow-Origin", origin)
				wildcard = false
				break
			}
		}
		if wildcard {
			h.Set("Access-Control-Allow-Origin", "*")
		}
		h.Add("Vary", "Origin")
	}
	if c.Credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if len(c.ExposedHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(c.ExposedHeaders, ","))
	}
	if r.Method != http.MethodOptions {
		return false
	}
	methods := "GET,HEAD,PUT,PATCH,POST,DELETE"
	if len(c.Methods) > 0 {
		methods = strings.Join(c.Methods, ",")
	}
	h.Set("Access-Control-Allow-Methods", methods)
	if len(c.AllowedHeaders) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(c.AllowedHeaders, ","))
	} else if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
		h.Add("Vary", "Access-Control-Request-Headers")
	}
	if c.MaxAge > 0 {
		h.Set("Access-Control-Max-Age", strconv.Itoa(c.MaxAge))
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
	return true
}

// anyOrigin reports whether c allows any origin: no list, or "*" alone.
func (c *CORSOptions) anyOrigin() bool {
	return len(c.Origin) == 0 || (len(c.Origin) == 1 && c.Origin[0] == "*")
}

// warnCORS logs the CORS settings that cannot work as meant: credentials
// with any origin get "*", which browsers refuse for credentialed requests.
func warnCORS(c *CORSOptions, log *slog.Logger) {
	if c == nil || !c.Credentials || c.OriginFunc != nil || (!c.anyOrigin() && !slices.Contains(c.Origin, "*")) {
		return
	}
	log.Warn(`engine: CORS allows any origin ("*") with Credentials: browsers refuse credentialed ` +
		`cross-origin requests answered "*"; list the allowed origins in CORSOptions.Origin or decide with CORSOptions.OriginFunc`)
}
