//! The OpenAPI 3.1 document (`/api/v1/openapi.json`) and the API browser at `/docs` (Swagger UI
//! built into the binary: no network needed). The shapes come from the types the handlers read
//! and write, the operations from the handlers' own `#[utoipa::path]`; this file only gathers
//! them. `tests/it/openapi.rs` holds the document to what the service really answers.

use super::{
    auth, calendar, departments, enterprises, knowledge, notifications, ops, reports, tickets,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "From POST /api/v1/auth/token, or `closedloop token --username U`",
                    ))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "closedloop",
        description = "12345热线企业诉求闭环办理：受理、分办、督办、协调、答复、反馈、归档。\n\nThe closed loop of enterprise complaints for a district's 12345 hotline. Errors are RFC 7807 `application/problem+json` with a stable `code`.",
        license(name = "see the repository"),
    ),
    paths(
        auth::token,
        tickets::create,
        tickets::list,
        tickets::get,
        tickets::act,
        tickets::events,
        tickets::timers,
        calendar::deadline,
        calendar::get,
        calendar::put,
        departments::list,
        notifications::list,
        notifications::retry,
        enterprises::get,
        enterprises::search,
        enterprises::hot,
        enterprises::similar,
        reports::kpis,
        reports::ranking,
        reports::overdue,
        knowledge::list,
        knowledge::create,
        knowledge::get,
        knowledge::update,
        knowledge::versions,
        knowledge::keep_answer,
        ops::healthz,
        ops::readyz,
        ops::metrics,
    ),
    // Named by a path parameter only, which utoipa does not collect by itself.
    components(schemas(crate::domain::lifecycle::ActionKind)),
    modifiers(&Security),
    security(("bearer" = [])),
    tags(
        (name = "auth", description = "令牌"),
        (name = "tickets", description = "工单：受理、分办、办理、督办、协调、答复、反馈、归档"),
        (name = "calendar", description = "工作日历与期限"),
        (name = "departments", description = "承办单位"),
        (name = "notifications", description = "邮件通知（发件箱）"),
        (name = "reports", description = "考核指标、排名与超期统计"),
        (name = "enterprises", description = "一企一档与热点企业"),
        (name = "knowledge", description = "惠企政策知识库"),
        (name = "operations", description = "health and metrics"),
    )
)]
pub struct ApiDoc;

/// The document as served, built once.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        let mut api = ApiDoc::openapi();
        api.info.version = env!("CARGO_PKG_VERSION").to_string();
        api
    })
}
