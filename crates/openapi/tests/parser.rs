//! The parser on small documents, one concern each.

use serde_json::{json, Value};
use switchboard_contract::{Access, FieldKind};
use switchboard_openapi::*;

fn draft(doc: Value) -> Draft {
    parse_value(&doc, &ParseLimits::default()).expect("draft")
}

fn command<'a>(d: &'a Draft, name: &str) -> &'a DraftCommand {
    d.commands
        .iter()
        .find(|c| c.spec.name == name)
        .unwrap_or_else(|| {
            panic!(
                "no command {name} in {:?}",
                d.commands.iter().map(|c| &c.spec.name).collect::<Vec<_>>()
            )
        })
}

fn petstore() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Pet Store", "version": "1.2.0"},
        "servers": [{"url": "https://{region}.pets.example/{base}", "variables": {
            "region": {"default": "eu", "enum": ["eu", "us"]}, "base": {"default": "v2"}}},
            {"url": "https://sandbox.pets.example/v2"}],
        "paths": {
            "/pets/{petId}": {
                "parameters": [{"$ref": "#/components/parameters/PetId"}],
                "get": {"operationId": "getPet", "summary": "Get a pet",
                        "parameters": [{"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
                                       {"name": "Accept", "in": "header", "schema": {"type": "string"}}]},
                "put": {"operationId": "replacePet", "requestBody": {"$ref": "#/components/requestBodies/PetBody"}},
                "delete": {"summary": "Remove a pet"}
            },
            "/pets": {
                "get": {"operationId": "pets/list", "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                    {"name": "tags", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}},
                    {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["available", "sold"]}}]},
                "post": {"operationId": "createPet", "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "allOf": [{"$ref": "#/components/schemas/NewPet"}, {"type": "object", "properties": {"tag": {"type": "string"}}}]}}}}}
            }
        },
        "components": {
            "parameters": {"PetId": {"name": "petId", "in": "path", "required": true, "schema": {"type": "integer"}}},
            "requestBodies": {"PetBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}},
            "schemas": {
                "NewPet": {"type": "object", "required": ["name"], "properties": {"name": {"$ref": "#/components/schemas/Name"}}},
                "Name": {"type": "string", "nullable": true},
                "Pet": {"type": "object", "required": ["name"], "properties": {
                    "id": {"type": "integer", "readOnly": true},
                    "name": {"type": "string"},
                    "petId": {"type": "string"},
                    "parent": {"$ref": "#/components/schemas/Pet"}}}
            }
        }
    })
}

#[test]
fn one_command_per_operation_named_from_operation_id_or_method_and_path() {
    let d = draft(petstore());
    let mut names: Vec<&str> = d.commands.iter().map(|c| c.spec.name.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "createPet",
            "delete_pets_petId",
            "getPet",
            "pets_list",
            "replacePet"
        ]
    );
    assert_eq!(d.title, "Pet Store");
    assert_eq!(d.suggested_name, "pet-store");
    // The only note: the recursive `Pet` schema was cut off where it repeats.
    assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
    assert!(d.warnings[0].message.contains("recursive schema 'Pet'"));
}

#[test]
fn access_follows_the_method() {
    let d = draft(petstore());
    let get = &command(&d, "getPet").spec;
    assert_eq!(get.access, Access::Read);
    assert!(get.annotations().read_only_hint);
    let del = &command(&d, "delete_pets_petId").spec;
    assert_eq!(del.access, Access::Destructive);
    assert!(del.annotations().destructive_hint);
    let put = &command(&d, "replacePet").spec;
    assert_eq!(put.access, Access::Write);
    assert!(put.annotations().idempotent_hint);
    let post = &command(&d, "createPet").spec;
    assert!(!post.annotations().idempotent_hint);
}

#[test]
fn path_level_and_ref_parameters_merge_with_the_operations_own() {
    let d = draft(petstore());
    let get = command(&d, "getPet");
    let schema = get.spec.input_schema();
    assert_eq!(schema["properties"]["petId"]["type"], "integer");
    assert_eq!(schema["properties"]["X-Trace"]["type"], "string");
    assert!(
        schema["properties"].get("Accept").is_none(),
        "Accept headers are ignored per OpenAPI"
    );
    assert_eq!(schema["required"], json!(["petId"]));
    assert_eq!(schema["additionalProperties"], false);
    let locations: Vec<(String, Location)> = get
        .operation
        .params
        .iter()
        .map(|p| (p.param.clone(), p.location))
        .collect();
    assert_eq!(
        locations,
        [
            ("petId".to_string(), Location::Path),
            ("X-Trace".to_string(), Location::Header)
        ]
    );
    assert_eq!(get.operation.method, "GET");
    assert_eq!(get.operation.path, "/pets/{petId}");
}

#[test]
fn query_params_get_validation_kinds_and_reserved_names_are_renamed() {
    let d = draft(petstore());
    let list = command(&d, "pets_list");
    let kind = |n: &str| {
        list.spec
            .params
            .iter()
            .find(|p| p.name == n)
            .map(|p| p.kind.clone())
    };
    assert_eq!(
        kind("limit"),
        Some(FieldKind::Integer {
            minimum: Some(1),
            maximum: Some(100)
        })
    );
    assert_eq!(kind("tags"), Some(FieldKind::StringList));
    assert_eq!(
        kind("status"),
        Some(FieldKind::select(["available", "sold"]))
    );
    // `cursor` is the hub's signed-cursor input: the API's own goes by another name.
    assert_eq!(kind("cursor"), None);
    assert_eq!(kind("cursor_query"), Some(FieldKind::String));
    let binding = list
        .operation
        .params
        .iter()
        .find(|p| p.param == "cursor_query")
        .unwrap();
    assert_eq!(binding.wire, "cursor");
}

#[test]
fn object_body_is_spread_and_all_of_merged_with_nested_refs_inlined() {
    let d = draft(petstore());
    let create = command(&d, "createPet");
    let schema = create.spec.input_schema();
    assert_eq!(
        schema["properties"]["name"]["type"],
        json!(["string", "null"]),
        "3.0 nullable → type union"
    );
    assert_eq!(schema["properties"]["tag"]["type"], "string");
    assert_eq!(schema["required"], json!(["name"]));
    let body = create.operation.body.as_ref().unwrap();
    assert_eq!(body.content_type, "application/json");
    assert_eq!(body.encoding, BodyEncoding::Json);
    match &body.shape {
        BodyShape::Properties { properties } => {
            let names: Vec<&str> = properties.iter().map(|p| p.param.as_str()).collect();
            assert_eq!(names, ["name", "tag"]);
        }
        other => panic!("expected spread body, got {other:?}"),
    }
}

#[test]
fn body_clashing_with_a_parameter_stays_whole_and_recursion_is_cut_off() {
    let d = draft(petstore());
    let put = command(&d, "replacePet");
    // The body has a `petId` property, as does the path: the body goes under `body`.
    match &put.operation.body.as_ref().unwrap().shape {
        BodyShape::Whole { param } => assert_eq!(param, "body"),
        other => panic!("expected whole body, got {other:?}"),
    }
    let schema = put.spec.input_schema();
    let body = &schema["properties"]["body"];
    assert_eq!(body["properties"]["name"]["type"], "string");
    let parent = &body["properties"]["parent"];
    assert!(
        parent["description"]
            .as_str()
            .unwrap()
            .contains("recursive 'Pet'"),
        "{parent}"
    );
    assert_eq!(schema["required"], json!(["petId", "body"]));
}

#[test]
fn read_only_body_properties_are_not_params() {
    let doc = json!({"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": {"/x": {"post": {
        "operationId": "make", "requestBody": {"content": {"application/json": {"schema": {
            "type": "object", "properties": {"id": {"type": "string", "readOnly": true}, "name": {"type": "string"}}}}}}}}}});
    let d = draft(doc);
    let props = &command(&d, "make").spec.input_schema()["properties"];
    assert!(props.get("id").is_none());
    assert!(props.get("name").is_some());
}

#[test]
fn servers_become_base_url_with_variables_substituted() {
    let d = draft(petstore());
    let base = &d.config[0];
    assert_eq!(base.name, "baseUrl");
    assert_eq!(base.default, Some(json!("https://eu.pets.example/v2")));
    assert!(!base.required);
    assert!(base.description.contains("sandbox.pets.example"));

    let relative = draft(
        json!({"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "servers": [{"url": "/v3"}], "paths": {}}),
    );
    assert!(relative.config[0].required);
    assert_eq!(relative.warnings[0].pointer, "/servers/0/url");
    let fetched = parse_from(r#"{"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "servers": [{"url": "/v3"}], "paths": {}}"#,
        &ParseLimits::default(), Some("https://petstore3.example/api/openapi.json")).unwrap();
    assert_eq!(
        fetched.config[0].default,
        Some(json!("https://petstore3.example/v3"))
    );

    let none =
        draft(json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}));
    assert!(none.config[0].required);
}

#[test]
fn security_schemes_become_connection_fields() {
    let doc = json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {
        "/a": {"get": {"operationId": "a", "security": [{"headerKey": []}, {"oauth": ["read"]}]}},
        "/b": {"get": {"operationId": "b", "security": []}},
        "/c": {"get": {"operationId": "c"}}},
      "security": [{"bearer": []}],
      "components": {"securitySchemes": {
        "headerKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        "query_key": {"type": "apiKey", "in": "query", "name": "api_key"},
        "session": {"type": "apiKey", "in": "cookie", "name": "sid"},
        "bearer": {"type": "http", "scheme": "bearer"},
        "basic": {"type": "http", "scheme": "Basic"},
        "digest": {"type": "http", "scheme": "digest"},
        "oauth": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "https://auth.example/token", "scopes": {"read": "r"}}}}}}});
    let d = draft(doc);
    let fields: Vec<(&str, bool)> = d
        .config
        .iter()
        .map(|f| (f.name.as_str(), f.is_secret()))
        .collect();
    assert_eq!(
        fields,
        [
            ("baseUrl", false),
            ("username", false),
            ("password", true),
            ("accessToken", true),
            ("headerKey", true),
            ("oauthAccessToken", true),
            ("tokenUrl", false),
            ("clientId", false),
            ("clientSecret", true),
            ("queryKey", true),
            ("session", true),
        ]
    );
    let token_url = d.config.iter().find(|f| f.name == "tokenUrl").unwrap();
    assert_eq!(token_url.default, Some(json!("https://auth.example/token")));
    assert!(
        d.warnings
            .iter()
            .any(|w| w.pointer == "/components/securitySchemes/digest/scheme"),
        "{:?}",
        d.warnings
    );
    let cookie = d
        .security_schemes
        .iter()
        .find(|s| s.name == "session")
        .unwrap();
    assert_eq!(
        cookie.kind,
        SchemeKind::ApiKey {
            location: Location::Cookie,
            param_name: "sid".into(),
            field: "session".into()
        }
    );

    let a = &command(&d, "a").operation.security;
    assert_eq!(a.len(), 2);
    assert_eq!(
        a[1][0],
        SecurityUse {
            scheme: "oauth".into(),
            scopes: vec!["read".into()]
        }
    );
    assert!(
        command(&d, "b").operation.security.is_empty(),
        "security: [] means none"
    );
    assert_eq!(
        command(&d, "c").operation.security,
        vec![vec![SecurityUse {
            scheme: "bearer".into(),
            scopes: vec![]
        }]]
    );
    assert!(!d.fallback_bearer);
}

#[test]
fn no_security_scheme_offers_an_optional_bearer_token() {
    let d = draft(petstore());
    assert!(d.fallback_bearer);
    let token = d.config.iter().find(|f| f.name == "accessToken").unwrap();
    assert!(token.is_secret() && !token.required);
}

#[test]
fn broken_operations_are_skipped_with_pointers_and_the_rest_kept() {
    let doc = json!({"openapi": "3.0.1", "info": {"title": "t", "version": "1"}, "paths": {
        "/ok": {"get": {"operationId": "ok"}},
        "/bad-ref": {"get": {"operationId": "badRef", "parameters": [{"$ref": "#/components/parameters/Missing"}]}},
        "/bad-schema": {"post": {"operationId": "badSchema", "requestBody": {"required": true, "content": {"application/json": {"schema": {
            "type": "object", "properties": {"x": {"$ref": "#/components/schemas/Nope"}}}}}}}},
        "/external": {"get": {"operationId": "external", "parameters": [{"$ref": "common.yaml#/components/parameters/P"}]}},
        "/bad-in": {"get": {"operationId": "badIn", "parameters": [{"name": "q", "in": "body"}]}},
        "/upload": {"post": {"operationId": "upload", "requestBody": {"required": true, "content": {"multipart/form-data": {}}}}},
        "/undeclared/{id}": {"get": {"operationId": "undeclared"}},
        "/not-an-object": "nope"}});
    let d = draft(doc);
    let names: Vec<&str> = d.commands.iter().map(|c| c.spec.name.as_str()).collect();
    assert_eq!(names, ["ok", "undeclared"], "{:?}", d.warnings);
    let at = |p: &str| {
        d.warnings
            .iter()
            .find(|w| w.pointer == p)
            .unwrap_or_else(|| panic!("no warning at {p}: {:#?}", d.warnings))
    };
    assert!(at("/paths/~1bad-ref/get/parameters/0/$ref")
        .message
        .contains("does not resolve"));
    assert!(at(
        "/paths/~1bad-schema/post/requestBody/content/application~1json/schema/properties/x/$ref"
    )
    .message
    .contains("#/components/schemas/Nope"));
    assert!(at("/paths/~1external/get/parameters/0/$ref")
        .message
        .contains("only local references"));
    assert!(at("/paths/~1bad-in/get/parameters/0")
        .message
        .contains("'in'"));
    assert!(at("/paths/~1upload/post/requestBody")
        .message
        .contains("multipart/form-data"));
    assert!(at("/paths/~1undeclared~1{id}/get")
        .message
        .contains("not declared"));
    assert!(at("/paths/~1not-an-object")
        .message
        .contains("must be an object"));
    let undeclared = command(&d, "undeclared");
    assert_eq!(undeclared.spec.input_schema()["required"], json!(["id"]));
}

#[test]
fn swagger_2_is_refused_clearly() {
    let err = parse(
        r#"{"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {}}"#,
        &ParseLimits::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.message,
        "Swagger 2.0 is not supported; convert to OpenAPI 3 (e.g. with swagger2openapi)"
    );
    assert_eq!(err.pointer, "/swagger");
}

#[test]
fn malformed_and_unsupported_documents_are_refused_with_reasons() {
    let limits = ParseLimits::default();
    let err = parse("{\"openapi\": \"3.0.0\",", &limits).unwrap_err();
    assert!(
        err.message.contains("not valid JSON") && err.message.contains("line 1"),
        "{err}"
    );
    let err = parse("openapi: [3.0\n  bad: : yaml", &limits).unwrap_err();
    assert!(err.message.contains("valid YAML"), "{err}");
    let err = parse("{\"info\": {}}", &limits).unwrap_err();
    assert!(err.message.contains("no 'openapi'"), "{err}");
    let err = parse("{\"openapi\": \"4.0.0\"}", &limits).unwrap_err();
    assert!(
        err.message.contains("OpenAPI 4.0.0 is not supported"),
        "{err}"
    );
    let err = parse("[1, 2]", &limits).unwrap_err();
    assert!(
        err.message.contains("must be a JSON or YAML object"),
        "{err}"
    );
}

#[test]
fn huge_documents_are_refused_by_size() {
    let limits = ParseLimits {
        max_document_bytes: 100,
        ..ParseLimits::default()
    };
    let text = format!("{{\"openapi\": \"3.0.0\", \"x\": \"{}\"}}", "a".repeat(200));
    let err = parse(&text, &limits).unwrap_err();
    assert!(err.message.contains("the limit is 100 bytes"), "{err}");
}

#[test]
fn operation_count_is_bounded() {
    let mut paths = serde_json::Map::new();
    for i in 0..5 {
        paths.insert(format!("/p{i}"), json!({"get": {}}));
    }
    let doc = json!({"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": paths});
    let d = parse_value(
        &doc,
        &ParseLimits {
            max_operations: 3,
            ..ParseLimits::default()
        },
    )
    .unwrap();
    assert_eq!(d.commands.len(), 3);
    assert!(d
        .warnings
        .iter()
        .any(|w| w.message.contains("more than 3 operations")));
}

#[test]
fn yaml_and_openapi_3_1_type_arrays() {
    let yaml = r#"
openapi: 3.1.0
info: {title: Notes, version: "1"}
paths:
  /notes/{id}:
    patch:
      operationId: updateNote
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      requestBody:
        content:
          application/merge-patch+json:
            schema:
              type: object
              properties:
                title: {type: [string, "null"]}
                pinned: {type: boolean}
                meta: {$ref: '#/components/schemas/Meta', description: refined}
      responses:
        200: {description: ok}
components:
  schemas:
    Meta: {type: object, additionalProperties: {type: string}}
"#;
    let d = parse(yaml, &ParseLimits::default()).unwrap();
    let c = command(&d, "updateNote");
    let schema = c.spec.input_schema();
    assert_eq!(
        schema["properties"]["title"]["type"],
        json!(["string", "null"])
    );
    assert_eq!(
        schema["properties"]["meta"]["description"], "refined",
        "3.1 $ref siblings refine the target"
    );
    assert_eq!(
        schema["properties"]["meta"]["additionalProperties"]["type"],
        "string"
    );
    let title = c.spec.params.iter().find(|p| p.name == "title").unwrap();
    assert_eq!(
        title.kind,
        FieldKind::String,
        "a nullable string is validated as a string"
    );
    assert!(
        !title.required,
        "properties of an optional body are optional"
    );
    assert_eq!(
        c.operation.body.as_ref().unwrap().content_type,
        "application/merge-patch+json"
    );
}

#[test]
fn names_stay_unique_and_within_limits() {
    let long = "enterprise-admin/list-selected-organizations-enabled-github-actions-enterprise";
    let doc = json!({"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": {
        "/a": {"get": {"operationId": long}, "post": {"operationId": format!("{long}-2")}},
        "/health": {"get": {"operationId": "health"}},
        "/b": {"get": {"operationId": "dup"}, "post": {"operationId": "dup"}}}});
    let d = draft(doc);
    let names: Vec<&str> = d.commands.iter().map(|c| c.spec.name.as_str()).collect();
    assert!(
        names.iter().all(
            |n| n.len() <= 48 && switchboard_contract::naming::validate_command_name(n).is_ok()
        ),
        "{names:?}"
    );
    assert_ne!(names[0], names[1]);
    assert!(
        names.contains(&"dup") && names.contains(&"dup_2"),
        "{names:?}"
    );
    assert!(
        names.contains(&"health_2"),
        "`health` is the hub's own command: {names:?}"
    );
}

#[test]
fn parameter_name_clashes_across_locations_are_renamed_by_location() {
    let doc = json!({"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": {"/items/{id}": {"get": {
        "operationId": "get", "parameters": [
            {"name": "id", "in": "query", "schema": {"type": "string"}},
            {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
            {"name": "id", "in": "header", "schema": {"type": "string"}},
            {"name": "filter[name]", "in": "query", "schema": {"type": "string"}}]}}}});
    let d = draft(doc);
    let ops: Vec<(String, String, Location)> = command(&d, "get")
        .operation
        .params
        .iter()
        .map(|p| (p.param.clone(), p.wire.clone(), p.location))
        .collect();
    assert_eq!(
        ops,
        [
            ("id".into(), "id".into(), Location::Path),
            ("id_query".into(), "id".into(), Location::Query),
            (
                "filter_name_".into(),
                "filter[name]".into(),
                Location::Query
            ),
            ("id_header".into(), "id".into(), Location::Header),
        ]
    );
}

#[test]
fn a_type_keeps_the_chosen_operations_and_adds_health() {
    let d = draft(petstore());
    let t = build_type(
        &d,
        &TypeOptions {
            name: "pets".into(),
            version: "1.0.0".into(),
            operations: Some(vec!["getPet".into(), "pets/list".into()]),
            ..TypeOptions::default()
        },
    )
    .unwrap();
    let names: Vec<&str> = t.spec.commands.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["health", "pets_list", "getPet"],
        "by command name or operationId, in document order"
    );
    assert_eq!(t.definition.operations.len(), 2);
    assert_eq!(
        t.spec.execution_model,
        switchboard_contract::ExecutionModel::Openapi
    );
    // The stored definition round-trips through JSON.
    let stored = serde_json::to_value(&t.definition).unwrap();
    let back: OpenApiDefinition = serde_json::from_value(stored).unwrap();
    assert_eq!(back, t.definition);

    let err = build_type(
        &d,
        &TypeOptions {
            name: "pets".into(),
            operations: Some(vec!["nope".into()]),
            ..TypeOptions::default()
        },
    )
    .unwrap_err();
    assert!(err.contains("unknown operation(s): nope"), "{err}");
    let err = build_type(
        &d,
        &TypeOptions {
            name: "Bad Name".into(),
            ..TypeOptions::default()
        },
    )
    .unwrap_err();
    assert!(err.contains("tool prefix"), "{err}");
}

#[test]
fn draft_json_lists_commands_and_warnings() {
    let d = draft(petstore());
    let j = d.to_json();
    assert_eq!(j["executionModel"], "openapi");
    assert_eq!(j["commands"].as_array().unwrap().len(), 5);
    assert_eq!(
        j["configSchema"]["properties"]["baseUrl"]["default"],
        "https://eu.pets.example/v2"
    );
    assert!(j["commands"][0]["inputSchema"].is_object());
}

#[test]
fn yaml_alias_bombs_are_refused_not_expanded() {
    let mut yaml = String::from(
        "openapi: 3.0.0\ninfo: {title: t, version: '1'}\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n",
    );
    for i in 1..12 {
        let prev = format!("*a{}", i - 1);
        yaml.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
    }
    yaml.push_str("paths: {}\n");
    let started = std::time::Instant::now();
    let err = parse(&yaml, &ParseLimits::default()).unwrap_err();
    assert!(err.message.contains("valid YAML"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn outputs_come_from_the_success_response_and_operation_servers_are_noted() {
    let doc = json!({"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": {"/u": {"get": {
        "operationId": "getUser",
        "servers": [{"url": "https://other.example"}],
        "responses": {"404": {"description": "no"}, "200": {"$ref": "#/components/responses/User"}}}}},
        "components": {"responses": {"User": {"description": "ok", "content": {"application/json": {"schema": {
            "allOf": [{"$ref": "#/components/schemas/Base"}, {"properties": {"name": {"type": "string"}}}]}}}}},
          "schemas": {"Base": {"type": "object", "properties": {"id": {"type": "integer"}}}}}});
    let d = draft(doc);
    let get = command(&d, "getUser");
    assert_eq!(get.spec.outputs, ["id", "name"]);
    assert_eq!(get.operation.accept.as_deref(), Some("application/json"));
    assert!(
        d.warnings
            .iter()
            .any(|w| w.pointer == "/paths/~1u/get" && w.message.contains("ignored")),
        "{:?}",
        d.warnings
    );
}

#[test]
fn a_prefix_too_long_for_the_command_names_is_refused_with_the_length_that_fits() {
    let long = "x".repeat(60);
    let doc = json!({"openapi": "3.0.0", "info": {"title": "A Rather Long API Title", "version": "1"},
        "paths": {"/a": {"get": {"operationId": long}}, "/b": {"get": {"operationId": "short"}}}});
    let d = draft(doc);
    assert_eq!(d.suggested_name, "a-rather-long-a");
    let fits = build_type(
        &d,
        &TypeOptions {
            name: d.suggested_name.clone(),
            ..TypeOptions::default()
        },
    );
    assert!(fits.is_ok(), "{fits:?}");
    let err = build_type(
        &d,
        &TypeOptions {
            name: "a-twenty-char-prefix".into(),
            ..TypeOptions::default()
        },
    )
    .unwrap_err();
    assert!(
        err.contains("1 command name(s) do not fit the tool prefix 'a-twenty-char-prefix'"),
        "{err}"
    );
    assert!(err.contains("at most 15 characters"), "{err}");
    let subset = build_type(
        &d,
        &TypeOptions {
            name: "a-twenty-char-prefix".into(),
            operations: Some(vec!["short".into()]),
            ..TypeOptions::default()
        },
    );
    assert!(subset.is_ok(), "{subset:?}");
}
