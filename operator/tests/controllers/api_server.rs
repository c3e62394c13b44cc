//! A scripted stand-in for the Kubernetes API server (the kube-rs `ApiServerVerifier` pattern):
//! the controllers talk to it through a real `kube::Client`; it keeps the objects a test puts
//! in it, answers get/list/create/update/patch like the API server does for the calls the
//! operator makes (server-side apply, JSON patch for finalizers, merge patch for event series,
//! compare-and-swap on resourceVersion), and records every request so tests can check what
//! was sent — including that no request carries a password. A server-side apply that creates
//! its object is recorded as `patch` and `create`, as the API server authorizes it.
//!
//! Like the API server it also serves watch streams (`watch=true`: every change after the
//! `resourceVersion` asked for, as `ADDED`/`MODIFIED`/`DELETED` lines, held open until
//! `timeoutSeconds`), label selectors on lists and watches (`k=v`, `k!=v`, `k`, `!k`),
//! metadata-only answers when the client asks for `PartialObjectMetadata` (no Secret data), and
//! objects stored as raw JSON, so a test can put in what the API server's schema admits and the
//! operator's types may not. [`ApiServer::refuse`] makes it answer 500 for a resource, as an
//! API server in trouble does.
//!
//! What it does not do: admission, schema and name validation (the controllers validate names
//! themselves, as `fox validate` does; the CRD schemas are checked in `crds/tests`).

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use http_body::Frame;
use http_body_util::StreamBody;

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

/// A response body: whole for most answers, a stream of lines for a watch.
pub type ResponseBody =
    StreamBody<Pin<Box<dyn Stream<Item = Result<Frame<Bytes>, Infallible>> + Send>>>;

fn whole_body(bytes: Vec<u8>) -> ResponseBody {
    StreamBody::new(Box::pin(futures::stream::once(async move {
        Ok(Frame::data(Bytes::from(bytes)))
    })))
}

/// One change, as a watch reports it.
struct Change {
    version: u64,
    type_: &'static str,
    key: Key,
    object: Value,
}

#[derive(Default)]
struct World {
    objects: BTreeMap<Key, Value>,
    /// Every change, oldest first, for watches.
    changes: Vec<Change>,
    /// Resources answered with 500 (see [`ApiServer::refuse`]).
    refused: BTreeSet<String>,
    /// (resource, namespace) answered with 403 (see [`ApiServer::forbid`]).
    forbidden: BTreeSet<(String, String)>,
    /// Resources answered only after a delay (see [`ApiServer::delay`]).
    delayed: BTreeMap<String, Duration>,
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

/// Objects merged the way server-side apply merges ours: maps recursively, lists replaced,
/// null removing the field (as a merge patch does).
fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                // As in a JSON merge patch, null removes the field.
                if value.is_null() {
                    target.remove(key);
                    continue;
                }
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

/// A label selector as the API server reads it: `k=v`, `k==v`, `k!=v`, `k`, `!k`, joined by
/// commas (set-based `in`/`notin` are not used by the operator and match nothing).
fn selector_matches(selector: &str, labels: &Value) -> bool {
    selector
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .all(|requirement| {
            let label = |key: &str| labels.get(key.trim()).and_then(Value::as_str);
            if let Some((key, value)) = requirement.split_once("!=") {
                label(key) != Some(value.trim())
            } else if let Some((key, value)) = requirement
                .split_once("==")
                .or_else(|| requirement.split_once('='))
            {
                label(key) == Some(value.trim())
            } else if let Some(key) = requirement.strip_prefix('!') {
                label(key).is_none()
            } else if requirement.contains(' ') {
                false
            } else {
                label(requirement).is_some()
            }
        })
}

/// The value of `name` in a query string, percent-decoded.
fn query_value(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| percent_decode(value))
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(byte) => {
                        out.push(byte);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a list or watch selects.
#[derive(Clone)]
struct Selection {
    group: String,
    resource: String,
    namespace: String,
    labels: Option<String>,
    metadata_only: bool,
}

impl Selection {
    fn matches(&self, key: &Key, object: &Value) -> bool {
        let (group, resource, namespace, _) = key;
        group == &self.group
            && resource == &self.resource
            && (self.namespace.is_empty() || namespace == &self.namespace)
            && self
                .labels
                .as_deref()
                .is_none_or(|selector| selector_matches(selector, &object["metadata"]["labels"]))
    }

    /// The object as the client asked for it: whole, or only its metadata.
    fn shape(&self, object: &Value) -> Value {
        if self.metadata_only {
            json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata",
                   "metadata": object["metadata"].clone()})
        } else {
            object.clone()
        }
    }
}

impl World {
    fn record_change(&mut self, type_: &'static str, key: &Key, object: &Value) {
        self.changes.push(Change {
            version: self.version,
            type_,
            key: key.clone(),
            object: object.clone(),
        });
    }

    /// Watch lines of the changes after `after` that `selection` selects, and the newest
    /// version seen.
    fn changes_after(&self, selection: &Selection, after: u64) -> (Vec<u8>, u64) {
        let mut lines = Vec::new();
        let mut newest = after;
        for change in self.changes.iter().filter(|c| c.version > after) {
            newest = newest.max(change.version);
            if selection.matches(&change.key, &change.object) {
                let line = json!({"type": change.type_, "object": selection.shape(&change.object)});
                lines.extend(serde_json::to_vec(&line).unwrap_or_default());
                lines.push(b'\n');
            }
        }
        (lines, newest)
    }

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
        accept: &str,
        body: &[u8],
    ) -> (StatusCode, Value) {
        if self
            .forbidden
            .contains(&(target.resource.clone(), target.namespace.clone()))
        {
            return status_response(
                StatusCode::FORBIDDEN,
                "Forbidden",
                &format!(
                    "{} is forbidden in namespace {:?} (scripted RBAC)",
                    target.resource, target.namespace
                ),
            );
        }
        if self.refused.contains(&target.resource) {
            return status_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "the server is refusing this resource (scripted)",
            );
        }
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
                let selection = selection_of(target, query, accept);
                let items: Vec<Value> = self
                    .objects
                    .iter()
                    .filter(|(key, object)| selection.matches(key, object))
                    .map(|(_, v)| selection.shape(v))
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
                self.record_change("ADDED", &key, &object);
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
                self.record_change("MODIFIED", &key, &object);
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
                    self.record_change("DELETED", &key, &object);
                    self.objects.remove(&key);
                } else {
                    let type_ = if self.apply_created {
                        "ADDED"
                    } else {
                        "MODIFIED"
                    };
                    self.record_change(type_, &key, &object);
                    self.objects.insert(key, object.clone());
                }
                (StatusCode::OK, object)
            }
            (&Method::DELETE, Some(name)) => match self.objects.remove(&key_of(name)) {
                Some(object) => {
                    self.version += 1;
                    self.record_change("DELETED", &key_of(name), &object);
                    (StatusCode::OK, object)
                }
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

fn selection_of(target: &Target, query: &str, accept: &str) -> Selection {
    Selection {
        group: target.group.clone(),
        resource: target.resource.clone(),
        namespace: target.namespace.clone(),
        labels: query_value(query, "labelSelector"),
        metadata_only: accept.contains("as=PartialObjectMetadata"),
    }
}

/// A watch: the changes after `resourceVersion` that the request selects, then every new one
/// as it happens, until `timeoutSeconds` (at most 290 s, as the watcher asks).
fn watch_stream(
    world: Arc<Mutex<World>>,
    selection: Selection,
    after: u64,
    timeout: Duration,
) -> ResponseBody {
    let deadline = tokio::time::Instant::now() + timeout;
    let stream = futures::stream::unfold(after, move |after| {
        let world = world.clone();
        let selection = selection.clone();
        async move {
            loop {
                let (lines, newest) = {
                    let world = world.lock().unwrap();
                    if world.refused.contains(&selection.resource) {
                        return None;
                    }
                    world.changes_after(&selection, after)
                };
                if !lines.is_empty() {
                    return Some((Ok(Frame::data(Bytes::from(lines))), newest));
                }
                if tokio::time::Instant::now() >= deadline {
                    return None;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    });
    StreamBody::new(Box::pin(stream))
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
        let (service, mut handle) =
            tower_test::mock::pair::<Request<Body>, Response<ResponseBody>>();
        let world = Arc::new(Mutex::new(World::default()));
        let served = world.clone();
        let task = tokio::spawn(async move {
            while let Some((request, respond)) = handle.next_request().await {
                let (parts, body) = request.into_parts();
                let body = body.collect_bytes().await.unwrap_or_default();
                let path = parts.uri.path().to_string();
                let query = parts.uri.query().unwrap_or_default().to_string();
                let header = |name: http::header::HeaderName| {
                    parts
                        .headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string()
                };
                let content_type = header(http::header::CONTENT_TYPE);
                let accept = header(http::header::ACCEPT);
                let mut watch = None;
                let (status, answer) = match parse_path(&path) {
                    Some(target) => {
                        let mut world = served.lock().unwrap();
                        world.apply_created = false;
                        let watching = parts.method == Method::GET
                            && target.name.is_none()
                            && query_value(&query, "watch").as_deref() == Some("true");
                        let (status, answer) =
                            if watching && !world.refused.contains(&target.resource) {
                                let after = query_value(&query, "resourceVersion")
                                    .and_then(|v| v.parse().ok())
                                    .unwrap_or(world.version);
                                let timeout = query_value(&query, "timeoutSeconds")
                                    .and_then(|v| v.parse().ok())
                                    .unwrap_or(290u64)
                                    .min(290);
                                watch = Some((
                                    selection_of(&target, &query, &accept),
                                    after,
                                    Duration::from_secs(timeout),
                                ));
                                (StatusCode::OK, Value::Null)
                            } else {
                                world.handle(
                                    &parts.method,
                                    &target,
                                    &query,
                                    &content_type,
                                    &accept,
                                    &body,
                                )
                            };
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
                let body = match watch {
                    Some((selection, after, timeout)) => {
                        watch_stream(served.clone(), selection, after, timeout)
                    }
                    None => whole_body(serde_json::to_vec(&answer).unwrap()),
                };
                let response = Response::builder()
                    .status(status)
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(body)
                    .unwrap();
                let delay = parse_path(&path).and_then(|target| {
                    served
                        .lock()
                        .unwrap()
                        .delayed
                        .get(&target.resource)
                        .copied()
                });
                match delay {
                    Some(delay) => {
                        tokio::spawn(async move {
                            tokio::time::sleep(delay).await;
                            respond.send_response(response);
                        });
                    }
                    None => respond.send_response(response),
                }
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
        let key = (group, resource, namespace, name);
        let type_ = if world.objects.contains_key(&key) {
            "MODIFIED"
        } else {
            "ADDED"
        };
        world.record_change(type_, &key, &object);
        world.objects.insert(key, object);
    }

    /// Answers 403 for `resource` in `namespace` (`""`: cluster-wide requests), as the API
    /// server does where RBAC grants nothing.
    pub fn forbid(&self, resource: &str, namespace: &str) {
        self.world
            .lock()
            .unwrap()
            .forbidden
            .insert((resource.to_string(), namespace.to_string()));
    }

    /// Answers requests on `resource` only after `delay` (none: at once), as an API server
    /// under load or behind a broken network does.
    pub fn delay(&self, resource: &str, delay: Option<Duration>) {
        let mut world = self.world.lock().unwrap();
        match delay {
            Some(delay) => {
                world.delayed.insert(resource.to_string(), delay);
            }
            None => {
                world.delayed.remove(resource);
            }
        }
    }

    /// Answers 500 for every request on `resource` (a plural, such as `foxschemas`) while
    /// `refused`, as an API server in trouble does; watches of it end and fail to restart.
    pub fn refuse(&self, resource: &str, refused: bool) {
        let mut world = self.world.lock().unwrap();
        if refused {
            world.refused.insert(resource.to_string());
        } else {
            world.refused.remove(resource);
        }
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
        world.record_change("MODIFIED", &key, &value);
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

    /// The stored object as raw JSON (also one the operator's types cannot read).
    pub fn raw(&self, group: &str, plural: &str, namespace: &str, name: &str) -> Option<Value> {
        let key = (
            group.to_string(),
            plural.to_string(),
            namespace.to_string(),
            name.to_string(),
        );
        self.world.lock().unwrap().objects.get(&key).cloned()
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
