//! What the reference's web client requires of our answers, written down as
//! schemas: required fields, types and value sets.
//!
//! Transcribed by hand (not copied) from the reference's protocol package
//! at commit 2690d1fc (`packages/protocol/src/config/schema.ts`,
//! `config/action_contracts.ts`, `config/session_contracts/*.ts`, the zod
//! schemas the client validates answers with, and `session/index.ts`,
//! `services.ts`, the TypeScript types of the snapshot, which the client
//! reads without validating), and from `shared/reference/server-protocol.md`
//! §5 and `game-rules.md` §9.
//!
//! The checker is strict where zod is: a required field must be present, an
//! optional one absent or of its type (`null` is not "absent"), enums take
//! only their values. Unknown keys are accepted (zod strips them, or keeps
//! them with `passthrough`).

use serde_json::Value;

/// A schema of a JSON value.
#[derive(Clone)]
pub enum Schema {
    /// Anything.
    Any,
    /// A string.
    Str,
    /// A non-empty string.
    NonEmpty,
    /// A finite number.
    Num,
    /// A boolean.
    Bool,
    /// Exactly this string.
    Literal(&'static str),
    /// Exactly `true`.
    True,
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// An array of at least `min` items.
    Array(Box<Schema>, usize),
    /// An object whose every value has this schema.
    Record(Box<Schema>),
    /// An object with these fields (others allowed).
    Object(Vec<Field>),
    /// Any of these.
    Union(Vec<Schema>),
    /// `null` or this.
    Nullable(Box<Schema>),
    /// A schema built when needed (for recursive ones).
    Lazy(fn() -> Schema),
}

/// A field of an object schema.
#[derive(Clone)]
pub struct Field {
    name: &'static str,
    required: bool,
    schema: Schema,
}

fn req(name: &'static str, schema: Schema) -> Field {
    Field {
        name,
        required: true,
        schema,
    }
}

fn opt(name: &'static str, schema: Schema) -> Field {
    Field {
        name,
        required: false,
        schema,
    }
}

fn obj(fields: Vec<Field>) -> Schema {
    Schema::Object(fields)
}

fn arr(items: Schema) -> Schema {
    Schema::Array(Box::new(items), 0)
}

fn rec(values: Schema) -> Schema {
    Schema::Record(Box::new(values))
}

/// The places where `value` does not satisfy `schema`, as
/// `path: problem` lines (empty when it does).
pub fn violations(schema: &Schema, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    check(schema, value, "$", &mut out);
    out
}

/// Panics with every violation of `schema` by `value`.
#[track_caller]
pub fn assert_matches(schema: &Schema, value: &Value, what: &str) {
    let found = violations(schema, value);
    assert!(
        found.is_empty(),
        "{what} fails the reference client's schema:\n  {}",
        found
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}

fn check(schema: &Schema, value: &Value, path: &str, out: &mut Vec<String>) {
    let mut fail = |what: String| out.push(format!("{path}: {what}"));
    match schema {
        Schema::Any => {}
        Schema::Str if value.is_string() => {}
        Schema::NonEmpty if value.as_str().is_some_and(|s| !s.is_empty()) => {}
        Schema::Num if value.as_f64().is_some_and(f64::is_finite) => {}
        Schema::Bool if value.is_boolean() => {}
        Schema::True if *value == Value::Bool(true) => {}
        Schema::Literal(literal) if value.as_str() == Some(literal) => {}
        Schema::OneOf(values) if value.as_str().is_some_and(|s| values.contains(&s)) => {}
        Schema::Array(items, min) => match value.as_array() {
            Some(list) if list.len() < *min => {
                fail(format!("{} items, at least {min} required", list.len()));
            }
            Some(list) => {
                for (i, item) in list.iter().enumerate() {
                    check(items, item, &format!("{path}[{i}]"), out);
                }
            }
            None => fail(format!("expected an array, found {}", brief(value))),
        },
        Schema::Record(values) => match value.as_object() {
            Some(map) => {
                for (key, item) in map {
                    check(values, item, &format!("{path}.{key}"), out);
                }
            }
            None => fail(format!("expected an object, found {}", brief(value))),
        },
        Schema::Object(fields) => match value.as_object() {
            Some(map) => {
                for field in fields {
                    let at = format!("{path}.{}", field.name);
                    match map.get(field.name) {
                        Some(item) => check(&field.schema, item, &at, out),
                        None if field.required => out.push(format!("{at}: required, missing")),
                        None => {}
                    }
                }
            }
            None => fail(format!("expected an object, found {}", brief(value))),
        },
        Schema::Union(options) => {
            let attempts: Vec<Vec<String>> = options
                .iter()
                .map(|option| {
                    let mut found = Vec::new();
                    check(option, value, path, &mut found);
                    found
                })
                .collect();
            if attempts.iter().all(|found| !found.is_empty()) {
                fail("matches no alternative:".to_owned());
                for found in attempts {
                    out.extend(found.into_iter().map(|line| format!("  | {line}")));
                }
            }
        }
        Schema::Nullable(_) if value.is_null() => {}
        Schema::Nullable(inner) => check(inner, value, path, out),
        Schema::Lazy(build) => check(&build(), value, path, out),
        Schema::Str => fail(format!("expected a string, found {}", brief(value))),
        Schema::NonEmpty => fail(format!(
            "expected a non-empty string, found {}",
            brief(value)
        )),
        Schema::Num => fail(format!("expected a number, found {}", brief(value))),
        Schema::Bool => fail(format!("expected a boolean, found {}", brief(value))),
        Schema::True => fail(format!("expected true, found {}", brief(value))),
        Schema::Literal(literal) => fail(format!("expected {literal:?}, found {}", brief(value))),
        Schema::OneOf(values) => fail(format!(
            "expected one of {values:?}, found {}",
            brief(value)
        )),
    }
}

fn brief(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 80 {
        format!("{}…", text.chars().take(80).collect::<String>())
    } else {
        text
    }
}

// ----- config (protocol/src/config/schema.ts) ------------------------------------

fn requirement() -> Schema {
    obj(vec![
        req("type", Schema::Str),
        req("method", Schema::Str),
        opt("params", rec(Schema::Any)),
        opt("message", Schema::Str),
    ])
}

fn cost_bag() -> Schema {
    rec(Schema::Num)
}

/// An effect (recursive).
pub fn effect() -> Schema {
    obj(vec![
        opt("type", Schema::Str),
        opt("method", Schema::Str),
        opt("params", rec(Schema::Any)),
        opt("effects", arr(Schema::Lazy(effect))),
        opt(
            "evaluator",
            obj(vec![
                req("type", Schema::Str),
                opt("params", rec(Schema::Any)),
            ]),
        ),
        opt("round", Schema::OneOf(&["up", "down"])),
        opt("meta", rec(Schema::Any)),
    ])
}

fn effects() -> Schema {
    arr(effect())
}

fn action_category() -> Schema {
    obj(vec![
        req("id", Schema::Str),
        req("title", Schema::Str),
        opt("subtitle", Schema::Str),
        opt("description", Schema::Str),
        req("icon", Schema::Str),
        req("order", Schema::Num),
        req(
            "layout",
            Schema::OneOf(&["grid-primary", "grid-secondary", "list"]),
        ),
        opt("hideWhenEmpty", Schema::Bool),
        opt("analyticsKey", Schema::Str),
    ])
}

/// An action's option group (`options` of the action metadata route).
pub fn effect_group() -> Schema {
    let option = obj(vec![
        req("id", Schema::Str),
        opt("label", Schema::Str),
        opt("icon", Schema::Str),
        opt("summary", Schema::Str),
        opt("description", Schema::Str),
        req("actionId", Schema::Str),
        opt("params", rec(Schema::Any)),
    ]);
    obj(vec![
        req("id", Schema::Str),
        req("title", Schema::Str),
        opt("summary", Schema::Str),
        opt("description", Schema::Str),
        opt("icon", Schema::Str),
        opt("layout", Schema::OneOf(&["default", "compact"])),
        req("options", Schema::Array(Box::new(option), 1)),
    ])
}

fn action() -> Schema {
    obj(vec![
        req("id", Schema::Str),
        req("name", Schema::Str),
        opt("icon", Schema::Str),
        opt("baseCosts", cost_bag()),
        opt("requirements", arr(requirement())),
        req(
            "effects",
            arr(Schema::Union(vec![effect_group(), effect()])),
        ),
        opt("system", Schema::Bool),
    ])
}

/// The effect-list fields named by `hooks`, all optional.
fn hooks(hooks: &[&'static str]) -> Vec<Field> {
    hooks.iter().map(|name| opt(name, effects())).collect()
}

fn building() -> Schema {
    let mut fields = vec![
        req("id", Schema::Str),
        req("name", Schema::Str),
        opt("icon", Schema::Str),
        req("costs", cost_bag()),
        opt("upkeep", cost_bag()),
    ];
    fields.extend(hooks(&[
        "onBuild",
        "onGrowthPhase",
        "onUpkeepPhase",
        "onBeforeAttacked",
        "onAttackResolved",
        "onPayUpkeepStep",
        "onGainIncomeStep",
        "onGainAPStep",
    ]));
    obj(fields)
}

fn development() -> Schema {
    let mut fields = vec![
        req("id", Schema::Str),
        req("name", Schema::Str),
        opt("icon", Schema::Str),
        opt("upkeep", cost_bag()),
        opt("system", Schema::Bool),
        opt("populationCap", Schema::Num),
    ];
    fields.extend(hooks(&[
        "onBuild",
        "onGrowthPhase",
        "onBeforeAttacked",
        "onAttackResolved",
        "onPayUpkeepStep",
        "onGainIncomeStep",
        "onGainAPStep",
    ]));
    obj(fields)
}

fn population() -> Schema {
    let mut fields = vec![
        req("id", Schema::Str),
        req("name", Schema::Str),
        opt("icon", Schema::Str),
        opt("upkeep", cost_bag()),
    ];
    fields.extend(hooks(&[
        "onAssigned",
        "onUnassigned",
        "onGrowthPhase",
        "onUpkeepPhase",
        "onPayUpkeepStep",
        "onGainIncomeStep",
        "onGainAPStep",
    ]));
    obj(fields)
}

fn player_start() -> Schema {
    let mut land = vec![
        opt("developments", arr(Schema::Str)),
        opt("slotsMax", Schema::Num),
        opt("slotsUsed", Schema::Num),
        opt("tilled", Schema::Bool),
        opt("upkeep", cost_bag()),
    ];
    land.extend(hooks(&[
        "onPayUpkeepStep",
        "onGainIncomeStep",
        "onGainAPStep",
    ]));
    obj(vec![
        opt("resources", rec(Schema::Num)),
        opt("stats", rec(Schema::Num)),
        opt("population", rec(Schema::Num)),
        opt("lands", arr(obj(land))),
    ])
}

fn start_config() -> Schema {
    let mode = obj(vec![
        opt("player", player_start()),
        opt("players", rec(player_start())),
    ]);
    obj(vec![
        req("player", player_start()),
        opt("players", rec(player_start())),
        opt("modes", obj(vec![opt("dev", mode)])),
    ])
}

/// A phase of the runtime config (`phaseSchema`).
fn phase() -> Schema {
    let step = obj(vec![
        req("id", Schema::Str),
        opt("title", Schema::Str),
        opt("triggers", arr(Schema::Str)),
        opt("effects", effects()),
        opt("icon", Schema::Str),
    ]);
    obj(vec![
        req("id", Schema::Str),
        req("steps", Schema::Array(Box::new(step), 1)),
        opt("action", Schema::Bool),
        opt("label", Schema::Str),
        opt("icon", Schema::Str),
    ])
}

fn tier_definition() -> Schema {
    obj(vec![
        req("id", Schema::Str),
        req(
            "range",
            obj(vec![req("min", Schema::Num), opt("max", Schema::Num)]),
        ),
        req(
            "effect",
            obj(vec![
                req("incomeMultiplier", Schema::Num),
                opt("buildingDiscountPct", Schema::Num),
                opt("growthBonusPct", Schema::Num),
                opt("upkeepCouncilReduction", Schema::Num),
                opt("halveCouncilAPInUpkeep", Schema::Bool),
                opt("disableGrowth", Schema::Bool),
            ]),
        ),
        opt("enterEffects", effects()),
        opt("exitEffects", effects()),
        opt(
            "preview",
            obj(vec![req("id", Schema::Str), opt("effects", effects())]),
        ),
        opt(
            "text",
            obj(vec![
                opt("summary", Schema::Str),
                opt("description", Schema::Str),
                opt("removal", Schema::Str),
            ]),
        ),
        opt(
            "display",
            obj(vec![
                opt("removalCondition", Schema::Str),
                opt("icon", Schema::Str),
                opt("summaryToken", Schema::Str),
                opt("title", Schema::Str),
            ]),
        ),
    ])
}

/// A win condition: every trigger is a resource comparison.
pub fn win_condition() -> Schema {
    let outcome = || Schema::OneOf(&["victory", "defeat", "none"]);
    obj(vec![
        req("id", Schema::Str),
        req(
            "trigger",
            obj(vec![
                req("type", Schema::Literal("resource")),
                req("key", Schema::Str),
                req("comparison", Schema::OneOf(&["lt", "lte", "gt", "gte"])),
                req("value", Schema::Num),
                req("target", Schema::OneOf(&["self", "opponent"])),
            ]),
        ),
        req(
            "result",
            obj(vec![req("subject", outcome()), opt("opponent", outcome())]),
        ),
        opt(
            "display",
            obj(vec![
                opt("icon", Schema::Str),
                opt("victory", Schema::Str),
                opt("defeat", Schema::Str),
            ]),
        ),
    ])
}

fn core_phase_ids() -> Schema {
    obj(vec![req("growth", Schema::Str), req("upkeep", Schema::Str)])
}

fn rule_set() -> Schema {
    obj(vec![
        req("defaultActionAPCost", Schema::Num),
        req("absorptionCapPct", Schema::Num),
        req(
            "absorptionRounding",
            Schema::OneOf(&["down", "up", "nearest"]),
        ),
        req("tieredResourceKey", Schema::Str),
        req("tierDefinitions", arr(tier_definition())),
        req("slotsPerNewLand", Schema::Num),
        req("maxSlotsPerLand", Schema::Num),
        req("basePopulationCap", Schema::Num),
        req("winConditions", arr(win_condition())),
        opt("corePhaseIds", core_phase_ids()),
    ])
}

// ----- session contracts (protocol/src/config/session_contracts) ------------------

fn resource_definition() -> Schema {
    obj(vec![
        req("key", Schema::Str),
        opt("icon", Schema::Str),
        opt("label", Schema::Str),
        opt("description", Schema::Str),
        opt("tags", arr(Schema::Str)),
    ])
}

/// `registries` of every session state.
pub fn registries() -> Schema {
    obj(vec![
        req("actions", rec(action())),
        req("buildings", rec(building())),
        req("developments", rec(development())),
        req("populations", rec(population())),
        req("resources", rec(resource_definition())),
        opt("actionCategories", rec(action_category())),
    ])
}

/// `GET /runtime-config`.
pub fn runtime_config() -> Schema {
    obj(vec![
        req("phases", arr(phase())),
        req("start", start_config()),
        req("rules", rule_set()),
        req("resources", rec(resource_definition())),
        req("primaryIconId", Schema::Nullable(Box::new(Schema::Str))),
    ])
}

fn descriptor() -> Schema {
    obj(vec![
        opt("label", Schema::Str),
        opt("icon", Schema::Str),
        opt("description", Schema::Str),
        opt("displayAsPercent", Schema::Bool),
        opt(
            "format",
            Schema::Union(vec![
                Schema::Str,
                obj(vec![
                    opt("prefix", Schema::Str),
                    opt("percent", Schema::Bool),
                ]),
            ]),
        ),
    ])
}

fn overview() -> Schema {
    let hero = obj(vec![
        opt("badgeIcon", Schema::Str),
        opt("badgeLabel", Schema::Str),
        opt("title", Schema::Str),
        opt("intro", Schema::Str),
        opt("paragraph", Schema::Str),
        opt("tokens", rec(Schema::Str)),
    ]);
    let section_head = |kind: &'static str, body: Field| {
        obj(vec![
            req("kind", Schema::Literal(kind)),
            req("id", Schema::Str),
            req("icon", Schema::Str),
            req("title", Schema::Str),
            opt("span", Schema::Bool),
            body,
        ])
    };
    let item = obj(vec![
        opt("icon", Schema::Str),
        req("label", Schema::Str),
        req("body", arr(Schema::Str)),
    ]);
    let section = Schema::Union(vec![
        section_head("paragraph", req("paragraphs", arr(Schema::Str))),
        section_head("list", req("items", arr(item))),
    ]);
    let entries = || rec(arr(Schema::Str));
    let tokens = obj(vec![
        opt("actions", entries()),
        opt("phases", entries()),
        opt("resources", entries()),
        opt("stats", entries()),
        opt("population", entries()),
        opt("static", entries()),
    ]);
    obj(vec![
        opt("hero", hero),
        opt("sections", arr(section)),
        opt("tokens", tokens),
    ])
}

/// The static metadata sections (`sessionMetadataSnapshotSchema`).
fn metadata_sections() -> Vec<Field> {
    let phase_step = obj(vec![
        opt("id", Schema::Str),
        opt("label", Schema::Str),
        opt("icon", Schema::Str),
        opt("triggers", arr(Schema::Str)),
    ]);
    let phase = obj(vec![
        opt("id", Schema::Str),
        opt("label", Schema::Str),
        opt("icon", Schema::Str),
        opt("action", Schema::Bool),
        opt("steps", arr(phase_step)),
    ]);
    let trigger = obj(vec![
        opt("label", Schema::Str),
        opt("icon", Schema::Str),
        opt("future", Schema::Str),
        opt("past", Schema::Str),
    ]);
    vec![
        opt("resources", rec(descriptor())),
        opt("populations", rec(descriptor())),
        opt("buildings", rec(descriptor())),
        opt("developments", rec(descriptor())),
        opt("stats", rec(descriptor())),
        opt("phases", rec(phase)),
        opt("triggers", rec(trigger)),
        opt("assets", rec(descriptor())),
        opt("overview", overview()),
    ]
}

/// `GET /metadata`.
pub fn metadata_response() -> Schema {
    obj(vec![
        req("registries", registries()),
        req("metadata", obj(metadata_sections())),
    ])
}

// ----- actions (protocol/src/config/action_contracts.ts) --------------------------

fn passive_meta() -> Schema {
    obj(vec![
        opt(
            "source",
            obj(vec![
                req("type", Schema::Str),
                req("id", Schema::Str),
                opt("icon", Schema::Str),
                opt("labelToken", Schema::Str),
            ]),
        ),
        opt(
            "removal",
            obj(vec![opt("token", Schema::Str), opt("text", Schema::Str)]),
        ),
    ])
}

fn passive_summary_fields() -> Vec<Field> {
    vec![
        req("id", Schema::Str),
        opt("name", Schema::Str),
        opt("icon", Schema::Str),
        opt("detail", Schema::Str),
        opt("meta", passive_meta()),
    ]
}

fn action_trace() -> Schema {
    let land = obj(vec![
        req("id", Schema::Str),
        req("slotsMax", Schema::Num),
        req("slotsUsed", Schema::Num),
        req("developments", arr(Schema::Str)),
    ]);
    let player = obj(vec![
        req("resources", rec(Schema::Num)),
        req("stats", rec(Schema::Num)),
        req("buildings", arr(Schema::Str)),
        req("lands", arr(land)),
        req("passives", arr(obj(passive_summary_fields()))),
    ]);
    obj(vec![
        req("id", Schema::Str),
        req("before", player.clone()),
        req("after", player),
    ])
}

fn requirement_failure() -> Schema {
    obj(vec![
        req("requirement", requirement()),
        opt("details", rec(Schema::Any)),
        opt("message", Schema::Str),
    ])
}

fn action_parameters() -> Schema {
    obj(vec![opt(
        "choices",
        rec(obj(vec![
            req("optionId", Schema::Str),
            opt("params", rec(Schema::Any)),
        ])),
    )])
}

/// `POST /sessions/:id/actions`, success or error.
pub fn action_response() -> Schema {
    Schema::Union(vec![
        obj(vec![
            req("status", Schema::Literal("success")),
            req("snapshot", snapshot()),
            req("costs", rec(Schema::Num)),
            req("traces", arr(action_trace())),
        ]),
        obj(vec![
            req("status", Schema::Literal("error")),
            req("error", Schema::Str),
            opt("requirementFailure", requirement_failure()),
            opt("requirementFailures", arr(requirement_failure())),
            opt("fatal", Schema::Bool),
        ]),
    ])
}

/// `POST .../costs`.
pub fn costs_response() -> Schema {
    obj(vec![
        req("sessionId", Schema::NonEmpty),
        req("costs", rec(Schema::Num)),
    ])
}

/// `POST .../requirements`.
pub fn requirements_response() -> Schema {
    obj(vec![
        req("sessionId", Schema::NonEmpty),
        req("requirements", arr(requirement_failure())),
    ])
}

/// `GET .../options`.
pub fn options_response() -> Schema {
    obj(vec![
        req("sessionId", Schema::NonEmpty),
        req("groups", arr(effect_group())),
    ])
}

// ----- the snapshot (protocol/src/session/index.ts, services.ts) ------------------

fn player_id() -> Schema {
    Schema::OneOf(&["A", "B"])
}

fn player_state() -> Schema {
    let link = || {
        obj(vec![
            opt("type", Schema::Str),
            opt("id", Schema::Str),
            opt("detail", Schema::Str),
            opt("extra", rec(Schema::Any)),
        ])
    };
    let source_meta = obj(vec![
        req("key", Schema::Str),
        req("longevity", Schema::OneOf(&["ongoing", "permanent"])),
        opt("kind", Schema::Str),
        opt("id", Schema::Str),
        opt("detail", Schema::Str),
        opt("instance", Schema::Str),
        opt("dependsOn", arr(link())),
        opt("removal", link()),
        opt(
            "effect",
            obj(vec![opt("type", Schema::Str), opt("method", Schema::Str)]),
        ),
        opt("extra", rec(Schema::Any)),
    ]);
    let contribution = obj(vec![req("amount", Schema::Num), req("meta", source_meta)]);
    let mut land = vec![
        req("id", Schema::Str),
        req("slotsMax", Schema::Num),
        req("slotsUsed", Schema::Num),
        req("tilled", Schema::Bool),
        req("developments", arr(Schema::Str)),
        opt("upkeep", rec(Schema::Num)),
    ];
    land.extend(hooks(&[
        "onPayUpkeepStep",
        "onGainIncomeStep",
        "onGainAPStep",
    ]));
    obj(vec![
        req("id", player_id()),
        req("name", Schema::Str),
        opt("aiControlled", Schema::Bool),
        req("resources", rec(Schema::Num)),
        req("stats", rec(Schema::Num)),
        req("statsHistory", rec(Schema::Bool)),
        req("population", rec(Schema::Num)),
        req("lands", arr(obj(land))),
        req("buildings", arr(Schema::Str)),
        req("actions", arr(Schema::Str)),
        req("statSources", rec(rec(contribution))),
        req("skipPhases", rec(rec(Schema::True))),
        req("skipSteps", rec(rec(rec(Schema::True)))),
        req("passives", arr(obj(passive_summary_fields()))),
    ])
}

fn game_snapshot() -> Schema {
    obj(vec![
        req("turn", Schema::Num),
        req("currentPlayerIndex", Schema::Num),
        req("currentPhase", Schema::Str),
        req("currentStep", Schema::Str),
        req("phaseIndex", Schema::Num),
        req("stepIndex", Schema::Num),
        req("devMode", Schema::Bool),
        req("players", Schema::Array(Box::new(player_state()), 2)),
        req("activePlayerId", player_id()),
        req("opponentId", player_id()),
        opt(
            "conclusion",
            obj(vec![
                req("conditionId", Schema::Str),
                req("winnerId", player_id()),
                req("loserId", player_id()),
                req("triggeredBy", player_id()),
            ]),
        ),
    ])
}

fn passive_record() -> Schema {
    let mut fields = passive_summary_fields();
    fields.extend(hooks(&[
        "effects",
        "onGrowthPhase",
        "onUpkeepPhase",
        "onBeforeAttacked",
        "onAttackResolved",
    ]));
    fields.push(req("owner", player_id()));
    fields.push(opt(
        "skip",
        obj(vec![
            opt("phases", arr(Schema::Str)),
            opt(
                "steps",
                arr(obj(vec![
                    req("phaseId", Schema::Str),
                    req("stepId", Schema::Str),
                ])),
            ),
        ]),
    ));
    obj(fields)
}

/// `snapshot` of every session state (`SessionSnapshot`).
pub fn snapshot() -> Schema {
    let step = obj(vec![
        req("id", Schema::Str),
        opt("title", Schema::Str),
        opt("effects", effects()),
        opt("triggers", arr(Schema::Str)),
    ]);
    let phase = obj(vec![
        req("id", Schema::Str),
        req("steps", arr(step)),
        opt("action", Schema::Bool),
        opt("icon", Schema::Str),
        opt("label", Schema::Str),
    ]);
    let mut metadata = metadata_sections();
    metadata.push(req("passiveEvaluationModifiers", rec(arr(Schema::Str))));
    metadata.push(opt("effectLogs", rec(arr(Schema::Any))));
    obj(vec![
        req("game", game_snapshot()),
        req("phases", arr(phase)),
        req("actionCostResource", Schema::Str),
        req(
            "recentResourceGains",
            arr(obj(vec![
                req("key", Schema::Str),
                req("amount", Schema::Num),
            ])),
        ),
        req(
            "compensations",
            obj(vec![req("A", player_start()), req("B", player_start())]),
        ),
        req(
            "rules",
            obj(vec![
                req("tieredResourceKey", Schema::Str),
                req("tierDefinitions", arr(tier_definition())),
                req("winConditions", arr(win_condition())),
            ]),
        ),
        req(
            "passiveRecords",
            obj(vec![
                req("A", arr(passive_record())),
                req("B", arr(passive_record())),
            ]),
        ),
        req("metadata", obj(metadata)),
    ])
}

/// A session state: create, snapshot, dev-mode, player.
pub fn session_state() -> Schema {
    obj(vec![
        req("sessionId", Schema::NonEmpty),
        req("snapshot", snapshot()),
        req("registries", registries()),
    ])
}

fn advance_result() -> Schema {
    let source = obj(vec![
        req("id", Schema::Str),
        opt("detail", Schema::Str),
        opt("meta", passive_meta()),
    ]);
    obj(vec![
        req("phase", Schema::Str),
        req("step", Schema::Str),
        req("effects", effects()),
        req("player", player_state()),
        opt(
            "skipped",
            obj(vec![
                req("type", Schema::OneOf(&["phase", "step"])),
                req("phaseId", Schema::Str),
                opt("stepId", Schema::Str),
                req("sources", arr(source)),
            ]),
        ),
    ])
}

/// `POST /sessions/:id/advance`.
pub fn advance_response() -> Schema {
    obj(vec![
        req("sessionId", Schema::NonEmpty),
        req("snapshot", snapshot()),
        req("advance", advance_result()),
        req("registries", registries()),
    ])
}

/// `POST /sessions/:id/ai-turn`.
pub fn ai_turn_response() -> Schema {
    let action = obj(vec![
        req("actionId", Schema::Str),
        opt("params", action_parameters()),
        req("costs", rec(Schema::Num)),
        req("traces", arr(action_trace())),
    ]);
    obj(vec![
        req("sessionId", Schema::NonEmpty),
        req("snapshot", snapshot()),
        req("registries", registries()),
        req("ranTurn", Schema::Bool),
        req("actions", arr(action)),
        req("phaseComplete", Schema::Bool),
    ])
}

/// `POST /sessions/:id/simulate`.
pub fn simulate_response() -> Schema {
    let delta = obj(vec![
        req("resources", rec(Schema::Num)),
        req("stats", rec(Schema::Num)),
        req("population", rec(Schema::Num)),
    ]);
    obj(vec![
        req("sessionId", Schema::NonEmpty),
        req(
            "result",
            obj(vec![
                req("playerId", player_id()),
                req("before", player_state()),
                req("after", player_state()),
                req("delta", delta),
                req("steps", arr(advance_result())),
            ]),
        ),
    ])
}

#[test]
fn the_checker_finds_what_zod_would_refuse() {
    use serde_json::json;
    let condition = win_condition();
    let castle = json!({
        "id": "castle-destroyed",
        "trigger": {"type": "resource", "key": "castleHP", "comparison": "lte", "value": 0, "target": "self"},
        "result": {"subject": "defeat", "opponent": "victory"},
        "display": {"icon": "castleHP", "victory": "v", "defeat": "d"}
    });
    assert!(violations(&condition, &castle).is_empty());
    let mut bankrupt = castle.clone();
    bankrupt["trigger"] = json!({"type": "bankruptcy", "key": "gold"});
    let found = violations(&condition, &bankrupt);
    assert_eq!(
        found,
        [
            "$.trigger.type: expected \"resource\", found \"bankruptcy\"",
            "$.trigger.comparison: required, missing",
            "$.trigger.value: required, missing",
            "$.trigger.target: required, missing",
        ]
    );
    let mut null_display = castle;
    null_display["display"]["icon"] = Value::Null;
    assert_eq!(
        violations(&condition, &null_display),
        ["$.display.icon: expected a string, found null"]
    );
    assert_eq!(
        violations(&effect(), &json!({"effects": [{"round": "nearest"}]})),
        ["$.effects[0].round: expected one of [\"up\", \"down\"], found \"nearest\""]
    );
    assert!(
        !violations(
            &effect_group(),
            &json!({"id": "g", "title": "t", "options": []})
        )
        .is_empty()
    );
}
