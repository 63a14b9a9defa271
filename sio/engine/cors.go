package engine

import (
	"net/http"
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
	case len(c.Origin) == 0 || (len(c.Origin) == 1 && c.Origin[0] == "*"):
		if c.Credentials && origin != "" {
			// The Fetch standard forbids "*" with credentials: reflect.
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
		} else {
			h.Set("Access-Control-Allow-Origin", "*")
		}
	default:
		for _, o := range c.Origin {
			if o == origin || o == "*" {
				h.Set("Access-Control-Allow-Origin", origin)
				break
			}
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
