package diff

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"maps"
)

// maskSecret returns a Secret with every value replaced by a digest of its bytes, so a diff
// shows which keys differ without ever printing a secret. stringData (git may write it) is
// folded into data first, as the API server does. Other kinds are returned as they are.
func maskSecret(obj map[string]any) map[string]any {
	if obj == nil || obj["kind"] != "Secret" || groupOf(str(obj, "apiVersion")) != "" {
		return obj
	}
	out := maps.Clone(obj)
	data := map[string]any{}
	if d, ok := obj["data"].(map[string]any); ok {
		for k, v := range d {
			s, _ := v.(string)
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				b = []byte(s) // not base64: still never shown
			}
			data[k] = digest(b)
		}
	}
	if sd, ok := obj["stringData"].(map[string]any); ok {
		for k, v := range sd {
			s, _ := v.(string)
			data[k] = digest([]byte(s))
		}
	}
	delete(out, "stringData")
	if len(data) > 0 {
		out["data"] = data
	} else {
		delete(out, "data")
	}
	if md, ok := out["metadata"].(map[string]any); ok {
		// The last applied configuration of a Secret holds its data.
		if ann, ok := md["annotations"].(map[string]any); ok && ann[LastAppliedAnnotation] != nil {
			md = maps.Clone(md)
			ann = maps.Clone(ann)
			delete(ann, LastAppliedAnnotation)
			md["annotations"] = ann
			out["metadata"] = md
		}
	}
	return out
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "<secret, sha256:" + hex.EncodeToString(sum[:6]) + ">"
}
