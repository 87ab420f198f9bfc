//! Listings that page with a next token, read to the end in one place.

use std::future::Future;

/// Every item of a listing: `page(token)` fetches one page (the first with `None`) and
/// returns its items and its next token. An empty token ends the listing like no token:
/// some endpoints (moto among them) answer `""` on the last page, and sending it back
/// would start over.
pub async fn all_pages<T, E, F, Fut>(mut page: F) -> Result<Vec<T>, E>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), E>>,
{
    let mut items = Vec::new();
    let mut token = None;
    loop {
        let (found, next) = page(token.take()).await?;
        items.extend(found);
        match next.filter(|t| !t.is_empty()) {
            Some(next) => token = Some(next),
            None => return Ok(items),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pages_are_read_until_no_token_or_an_empty_one() {
        let pages = [
            (vec![1, 2], Some("a".to_string())),
            (vec![3], Some("b".to_string())),
            (vec![4], Some(String::new())),
            (vec![99], None),
        ];
        let mut asked = Vec::new();
        let got: Result<Vec<i32>, ()> = all_pages(|token| {
            asked.push(token.clone());
            let page = pages[asked.len() - 1].clone();
            async move { Ok(page) }
        })
        .await;
        assert_eq!(got.unwrap(), [1, 2, 3, 4], "the empty token ended it");
        assert_eq!(asked, [None, Some("a".into()), Some("b".into())]);
        let failed: Result<Vec<i32>, &str> = all_pages(|_| async { Err("denied") }).await;
        assert_eq!(failed, Err("denied"));
    }
}
