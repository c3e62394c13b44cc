//! A scripted stand-in for the Kubernetes API server (the kube-rs `ApiServerVerifier` pattern):
//! the controllers talk to it through a real `kube::Client`; it keeps the objects a test puts
//! in it, answers get/list/create/update/patch like the API server does for the calls the
//! operator makes (server-side apply, JSON patch for finalizers, merge patch for event series,
//! compare-and-swap on resourceVersion), and records every request so tests can check what
//! was sent — including that no request carries a password. A server-side apply that creates
//! its object is recorded as `patch` and `create`, as the API server authorizes it.
//!
//! What it does not do: watch streams (refused; the watch wiring is covered by the predicate
//! unit tests and the kind run), label selectors on lists, admission and name validation (the
//! controllers validate names themselves, as `fox validate` does).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use http::{Method, Request, Response, StatusCode};
use kube::client::Body;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// One request as the API server saw it.
#[derive(Clone, Debug)]
// Every field shows in failure messages through Debug.
#[allow(dead_code)]
pub struct Recorded {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`.
    pub verb: String,
    /// API group (`""` for core).
    pub group: String,
    /// Resource, with `/status` for the subresource.
    pub resource: String,
    /// Namespace.
    pub namespace: String,
    /// Object name, if any.
    pub name: String,
    /// Request body as text.
    pub body: String,
    /// Response status.
    pub status: u16,
}

type Key = (String, String, String, String);

#[derive(Default)]
struct World {
    objects: BTreeMap<Key, Value>,
    requests: Vec<Recorded>,
    version: u64,
    /// The last request was a server-side apply that created its object, which the API server
    /// authorizes as `create` as well as `patch`.
    apply_created: bool,
}

/// The stand-in and a client connected to it.
pub struct ApiServer {
    world: Arc<Mutex<World>>,
    /// A client whose requests this server answers.
    pub client: kube::Client,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `FoxReplicaSet` → `foxreplicasets`; enough for the kinds the operator uses.
fn plural(kind: &str) -> String {
    format!("{}s", kind.to_lowercase())
}

fn group_of(api_version: &str) -> String {
    match api_version.split_once('/') {
        Some((group, _)) => group.to_string(),
        None => String::new(),
    }
}

struct Target {
    group: String,
    version: String,
    resource: String,
    subresource: Option<String>,
    namespace: String,
    name: Option<String>,
}

fn parse_path(path: &str) -> Option<Target> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match parts.as_slice() {
        ["api", version, rest @ ..] => (String::new(), version.to_string(), rest),
        ["apis", group, version, rest @ ..] => (group.to_string(), version.to_string(), rest),
        _ => return None,
    };
    let (namespace, rest) = match rest {
        ["namespaces", namespace, rest @ ..] => (namespace.to_string(), rest),
        rest => (String::new(), rest),
    };
    let (resource, name, subresource) = match rest {
        [resource] => (resource.to_string(), None, None),
        [resource, name] => (resource.to_string(), Some(name.to_string()), None),
        [resource, name, sub] => (
            resource.to_string(),
            Some(name.to_string()),
            Some(sub.to_string()),
        ),
        _ => return None,
    };
    Some(Target {
        group,
        version,
        resource,
        subresource,
        namespace,
        name,
    })
}

fn status_response(code: StatusCode, reason: &str, message: &str) -> (StatusCode, Value) {
    (
        code,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "reason": reason, "message": message, "code": code.as_u16()}),
    )
}

/// Objects merged the way server-side apply merges ours: maps recursively, lists replaced.
fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                match target.get_mut(key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        merge(existing, value)
                    }
                    _ => {
                        target.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

impl World {
    fn bump(&mut self, object: &mut Value) {
        self.version += 1;
        object["metadata"]["resourceVersion"] = json!(self.version.to_string());
        if object["metadata"].get("uid").is_none() {
            object["metadata"]["uid"] = json!(format!("uid-{}", self.version));
        }
        if object["metadata"].get("creationTimestamp").is_none() {
            object["metadata"]["creationTimestamp"] = json!("2026-11-27T10:00:00Z");
        }
    }

    fn handle(
        &mut self,
        method: &Method,
        target: &Target,
        query: &str,
        content_type: &str,
        body: &[u8],
    ) -> (StatusCode, Value) {
        let key_of = |name: &str| {
            (
                target.group.clone(),
                target.resource.clone(),
                target.namespace.clone(),
                name.to_string(),
            )
        };
        let body_json: Value = if body.is_empty() {
            Value::Null
        } else {
            match serde_json::from_slice(body) {
                Ok(value) => value,
                Err(error) => {
                    return status_response(
                        StatusCode::BAD_REQUEST,
                        "BadRequest",
                        &error.to_string(),
                    );
                }
            }
        };
        match (method, &target.name) {
            (&Method::GET, None) => {
                if query.contains("watch=true") {
                    return status_response(
                        StatusCode::METHOD_NOT_ALLOWED,
                        "MethodNotAllowed",
                        "watches are not scripted",
                    );
                }
                let items: Vec<Value> = self
                    .objects
                    .iter()
                    .filter(|((g, r, ns, _), _)| {
                        g == &target.group
                            && r == &target.resource
                            && (target.namespace.is_empty() || ns == &target.namespace)
                    })
                    .map(|(_, v)| v.clone())
                    .collect();
                (
                    StatusCode::OK,
                    json!({"apiVersion": if target.group.is_empty() { target.version.clone() } else { format!("{}/{}", target.group, target.version) },
                    "kind": "List", "metadata": {"resourceVersion": self.version.to_string()}, "items": items}),
                )
            }
            (&Method::GET, Some(name)) => match self.objects.get(&key_of(name)) {
                Some(object) => (StatusCode::OK, object.clone()),
                None => status_response(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    &format!("{} \"{name}\" not found", target.resource),
                ),
            },
            (&Method::POST, None) => {
                let mut object = body_json;
                let name = object["metadata"]["name"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| {
                        format!(
                            "{}{}",
                            object["metadata"]["generateName"]
                                .as_str()
                                .unwrap_or("object-"),
                            self.version + 1
                        )
                    });
                object["metadata"]["name"] = json!(name);
                object["metadata"]["namespace"] = json!(target.namespace);
                let key = key_of(&name);
                if self.objects.contains_key(&key) {
                    return status_response(
                        StatusCode::CONFLICT,
                        "AlreadyExists",
                        &format!("{} \"{name}\" already exists", target.resource),
                    );
                }
                self.bump(&mut object);
                self.objects.insert(key, object.clone());
                (StatusCode::CREATED, object)
            }
            (&Method::PUT, Some(name)) => {
                let key = key_of(name);
                let Some(existing) = self.objects.get(&key) else {
                    return status_response(StatusCode::NOT_FOUND, "NotFound", "not found");
                };
                let sent = body_json["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or_default();
                if sent
                    != existing["metadata"]["resourceVersion"]
                        .as_str()
                        .unwrap_or_default()
                {
                    return status_response(
                        StatusCode::CONFLICT,
                        "Conflict",
                        "the object has been modified; please apply your changes to the latest version and try again",
                    );
                }
                let mut object = body_json;
                self.bump(&mut object);
                self.objects.insert(key, object.clone());
                (StatusCode::OK, object)
            }
            (&Method::PATCH, Some(name)) => {
                let key = key_of(name);
                let existing = self.objects.get(&key).cloned();
                let mut object = match (existing, content_type) {
                    (Some(object), _) => object,
                    (None, "application/apply-patch+yaml") if target.subresource.is_none() => {
                        self.apply_created = true;
                        let mut object =
                            json!({"metadata": {"name": name, "namespace": target.namespace}});
                        merge(&mut object, &body_json);
                        object
                    }
                    (None, _) => {
                        return status_response(
                            StatusCode::NOT_FOUND,
                            "NotFound",
                            &format!("{} \"{name}\" not found", target.resource),
                        );
                    }
                };
                match content_type {
                    "application/apply-patch+yaml"
                        if target.subresource.as_deref() == Some("status") =>
                    {
                        object["status"] = body_json["status"].clone();
                    }
                    "application/apply-patch+yaml" | "application/merge-patch+json" => {
                        if let Some(map) = body_json.as_object() {
                            for (field, value) in map {
                                if field == "status" && target.subresource.is_none() {
                                    continue;
                                }
                                match object.get_mut(field) {
                                    Some(slot) => merge(slot, value),
                                    None => {
                                        object[field] = value.clone();
                                    }
                                }
                            }
                        }
                    }
                    "application/json-patch+json" => {
                        // Like the API server (evanphx/json-patch), a `test` for null passes on
                        // a missing path.
                        let operations: Vec<Value> = body_json
                            .as_array()
                            .cloned()
                            .unwrap_or_default()
                            .into_iter()
                            .filter(|op| {
                                let missing_null_test = op["op"] == "test"
                                    && op["value"].is_null()
                                    && object
                                        .pointer(op["path"].as_str().unwrap_or_default())
                                        .is_none();
                                !missing_null_test
                            })
                            .collect();
                        let patch: json_patch::Patch =
                            match serde_json::from_value(Value::Array(operations)) {
                                Ok(patch) => patch,
                                Err(error) => {
                                    return status_response(
                                        StatusCode::BAD_REQUEST,
                                        "BadRequest",
                                        &error.to_string(),
                                    );
                                }
                            };
                        if let Err(error) = json_patch::patch(&mut object, &patch) {
                            return status_response(
                                StatusCode::UNPROCESSABLE_ENTITY,
                                "Invalid",
                                &error.to_string(),
                            );
                        }
                    }
                    other => {
                        return status_response(
                            StatusCode::UNSUPPORTED_MEDIA_TYPE,
                            "UnsupportedMediaType",
                            other,
                        );
                    }
                }
                self.bump(&mut object);
                let deleting = object["metadata"]
                    .get("deletionTimestamp")
                    .is_some_and(|t| !t.is_null());
                let finalizers_left = object["metadata"]["finalizers"]
                    .as_array()
                    .is_some_and(|f| !f.is_empty());
                if deleting && !finalizers_left {
                    self.objects.remove(&key);
                } else {
                    self.objects.insert(key, object.clone());
                }
                (StatusCode::OK, object)
            }
            (&Method::DELETE, Some(name)) => match self.objects.remove(&key_of(name)) {
                Some(object) => (StatusCode::OK, object),
                None => status_response(StatusCode::NOT_FOUND, "NotFound", "not found"),
            },
            _ => status_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "not scripted",
            ),
        }
    }
}

fn verb_of(method: &Method, has_name: bool, query: &str) -> &'static str {
    match (method, has_name) {
        (&Method::GET, true) => "get",
        (&Method::GET, false) if query.contains("watch=true") => "watch",
        (&Method::GET, false) => "list",
        (&Method::POST, _) => "create",
        (&Method::PUT, _) => "update",
        (&Method::PATCH, _) => "patch",
        (&Method::DELETE, _) => "delete",
        _ => "unknown",
    }
}

impl ApiServer {
    /// Starts the stand-in; `default_namespace` is the client's default.
    pub fn start() -> Self {
        let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
        let world = Arc::new(Mutex::new(World::default()));
        let served = world.clone();
        let task = tokio::spawn(async move {
            while let Some((request, respond)) = handle.next_request().await {
                let (parts, body) = request.into_parts();
                let body = body.collect_bytes().await.unwrap_or_default();
                let path = parts.uri.path().to_string();
                let query = parts.uri.query().unwrap_or_default().to_string();
                let content_type = parts
                    .headers
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                let (status, answer) = match parse_path(&path) {
                    Some(target) => {
                        let mut world = served.lock().unwrap();
                        world.apply_created = false;
                        let (status, answer) =
                            world.handle(&parts.method, &target, &query, &content_type, &body);
                        let resource = match &target.subresource {
                            Some(sub) => format!("{}/{sub}", target.resource),
                            None => target.resource.clone(),
                        };
                        let verb = verb_of(&parts.method, target.name.is_some(), &query);
                        let verbs: &[&str] = if world.apply_created {
                            &[verb, "create"]
                        } else {
                            &[verb]
                        };
                        for verb in verbs {
                            world.requests.push(Recorded {
                                verb: verb.to_string(),
                                group: target.group.clone(),
                                resource: resource.clone(),
                                namespace: target.namespace.clone(),
                                name: target.name.clone().unwrap_or_default(),
                                body: String::from_utf8_lossy(&body).into_owned(),
                                status: status.as_u16(),
                            });
                        }
                        (status, answer)
                    }
                    None => status_response(StatusCode::NOT_FOUND, "NotFound", "unknown path"),
                };
                let response = Response::builder()
                    .status(status)
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(Body::from(serde_json::to_vec(&answer).unwrap()))
                    .unwrap();
                respond.send_response(response);
            }
        });
        Self {
            world,
            client: kube::Client::new(service, "default"),
            task,
        }
    }

    /// Puts `object` into the store (as `kubectl apply` would), with a fresh resourceVersion
    /// and `metadata.generation` 1 unless set.
    pub fn insert(&self, object: &impl Serialize) {
        let mut object = serde_json::to_value(object).unwrap();
        let group = group_of(object["apiVersion"].as_str().unwrap());
        let resource = plural(object["kind"].as_str().unwrap());
        let namespace = object["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default")
            .to_string();
        object["metadata"]["namespace"] = json!(namespace);
        if object["metadata"].get("generation").is_none() {
            object["metadata"]["generation"] = json!(1);
        }
        let name = object["metadata"]["name"].as_str().unwrap().to_string();
        let mut world = self.world.lock().unwrap();
        world.bump(&mut object);
        world
            .objects
            .insert((group, resource, namespace, name), object);
    }

    /// Changes a stored object with `edit` (as a user would), bumping `generation` when the
    /// spec changed.
    pub fn edit<K: Serialize + DeserializeOwned + kube::Resource<DynamicType = ()>>(
        &self,
        namespace: &str,
        name: &str,
        edit: impl FnOnce(&mut K),
    ) {
        let mut object: K = self.get(namespace, name).expect("object to edit exists");
        let before = serde_json::to_value(&object).unwrap()["spec"].clone();
        edit(&mut object);
        let mut value = serde_json::to_value(&object).unwrap();
        if value["spec"] != before {
            let generation = value["metadata"]["generation"].as_i64().unwrap_or(1);
            value["metadata"]["generation"] = json!(generation + 1);
        }
        let key = (
            K::group(&()).to_string(),
            K::plural(&()).to_string(),
            namespace.to_string(),
            name.to_string(),
        );
        let mut world = self.world.lock().unwrap();
        world.bump(&mut value);
        world.objects.insert(key, value);
    }

    /// The stored object, if any.
    pub fn get<K: DeserializeOwned + kube::Resource<DynamicType = ()>>(
        &self,
        namespace: &str,
        name: &str,
    ) -> Option<K> {
        let key = (
            K::group(&()).to_string(),
            K::plural(&()).to_string(),
            namespace.to_string(),
            name.to_string(),
        );
        let world = self.world.lock().unwrap();
        world
            .objects
            .get(&key)
            .map(|v| serde_json::from_value(v.clone()).unwrap())
    }

    /// Every stored object of kind `K` in `namespace`.
    pub fn list<K: DeserializeOwned + kube::Resource<DynamicType = ()>>(
        &self,
        namespace: &str,
    ) -> Vec<K> {
        let world = self.world.lock().unwrap();
        world
            .objects
            .iter()
            .filter(|((g, r, ns, _), _)| {
                g == K::group(&()).as_ref() && r == K::plural(&()).as_ref() && ns == namespace
            })
            .map(|(_, v)| serde_json::from_value(v.clone()).unwrap())
            .collect()
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.world.lock().unwrap().requests.clone()
    }

    /// `(type, reason, note)` of every Event stored in `namespace`, oldest first.
    pub fn events(&self, namespace: &str) -> Vec<(String, String, String)> {
        self.list::<k8s_openapi::api::events::v1::Event>(namespace)
            .into_iter()
            .map(|e| {
                (
                    e.type_.unwrap_or_default(),
                    e.reason.unwrap_or_default(),
                    e.note.unwrap_or_default(),
                )
            })
            .collect()
    }
}
