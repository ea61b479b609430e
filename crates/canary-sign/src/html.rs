//! The status page, `index.html`: one self-contained page (inline CSS, no
//! scripts, no external requests), every document text escaped by maud.

use maud::{DOCTYPE, Markup, html};

use crate::site::Site;

/// Renders the page.
pub fn render(site: &Site) -> String {
    page(site).into_string()
}

fn page(site: &Site) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (site.name) " status" }
            }
            body {
                h1 { (site.name) }
                p { (site.overall_label()) }
            }
        }
    }
}
