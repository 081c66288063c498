//! Read-only pages in HTML: the program page a share link opens (`/p/{token}`), also
//! written to a file by `report status --out FILE.html`. Templates are `maud` macros,
//! checked when the crate compiles, and escape every interpolated text; the one stylesheet
//! is embedded in the binary. Pages make no request anywhere else: no scripts, no fonts,
//! charts inline as SVG.
//!
//! Nothing here reads the database or computes health or forecasts: a page is drawn from
//! the analysis ([`Analysed`]) and what digests derive from it.

mod page;
mod portfolio;

use maud::{html, Markup, PreEscaped, DOCTYPE};

pub use page::program_page;
pub use portfolio::portfolio_page;

/// The stylesheet of every page: light, dark (`prefers-color-scheme`) and print.
pub const STYLESHEET: &str = include_str!("drumbeat.css");

/// Where the server serves [`STYLESHEET`].
pub const STYLESHEET_PATH: &str = "/assets/drumbeat.css";

/// The pages' icon (a drum), so browsers do not ask for `/favicon.ico` in vain.
pub const ICON: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><ellipse cx="16" cy="10" rx="12" ry="5" fill="#f1c40f"/><path d="M4 10v12c0 2.8 5.4 5 12 5s12-2.2 12-5V10c0 2.8-5.4 5-12 5S4 12.8 4 10z" fill="#e74c3c"/></svg>"##;

/// Where the server serves [`ICON`].
pub const ICON_PATH: &str = "/assets/drumbeat.svg";

/// The stylesheet's media type.
pub const CSS: &str = "text/css; charset=utf-8";

/// The HTML media type.
pub const HTML: &str = "text/html; charset=utf-8";

/// The headers every page and asset of the dashboard carries: only this server's own
/// resources (so no inline script or style), never in a frame, no type sniffing, the token
/// in the address never sent on as a referrer, and nothing kept in a shared cache.
pub const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("content-security-policy", "default-src 'self'"),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-store"),
];

/// How a page gets its stylesheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Styles {
    /// A `<link>` to [`STYLESHEET_PATH`]: served pages, under the CSP.
    Linked,
    /// The stylesheet inside the page: a file sent by mail, which has no server beside it.
    Inline,
}

/// One entry of a page's section navigation: the section's id and its heading.
pub struct NavItem {
    pub id: &'static str,
    pub label: &'static str,
}

/// The frame every page shares: language, title, stylesheet, a skip link, the header, the
/// section navigation, the main content and a footer. A portfolio page uses it as well.
pub fn layout(
    title: &str,
    subtitle: &str,
    nav: &[NavItem],
    styles: Styles,
    main: Markup,
    footer: &str,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                meta name="robots" content="noindex, nofollow";
                title { (title) }
                @match styles {
                    Styles::Linked => {
                        link rel="stylesheet" href=(STYLESHEET_PATH);
                        link rel="icon" type="image/svg+xml" href=(ICON_PATH);
                    },
                    // Our own stylesheet, from the binary: no user text in it.
                    Styles::Inline => style { (PreEscaped(STYLESHEET)) },
                }
            }
            body {
                a.skip href="#main" { "Skip to the content" }
                header.page {
                    h1 { (title) }
                    p { (subtitle) }
                }
                nav.sections aria-label="Sections" {
                    ul {
                        @for item in nav {
                            li { a href={ "#" (item.id) } { (item.label) } }
                        }
                    }
                }
                main #main tabindex="-1" {
                    (main)
                }
                footer.page {
                    p { (footer) }
                }
            }
        }
    }
}
