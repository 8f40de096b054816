package validate

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// externalSecret mirrors the fields of External Secrets' ExternalSecret
// (external-secrets.io/v1) that this tree uses; a field outside them fails
// the strict decode.
type externalSecret struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		RefreshInterval string `json:"refreshInterval"`
		SecretStoreRef  struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
		} `json:"secretStoreRef"`
		Target struct {
			Name           string `json:"name"`
			CreationPolicy string `json:"creationPolicy"`
		} `json:"target"`
		Data []struct {
			SecretKey string `json:"secretKey"`
			RemoteRef struct {
				Key string `json:"key"`
			} `json:"remoteRef"`
		} `json:"data"`
	} `json:"spec"`
}
