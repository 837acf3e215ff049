//! What a lock enforces, in `keyway demo` (manuals 000 and 003), a child module of `demo`
//! sharing its steps: tags (the owner's is the master key; a copied id does not open),
//! privacy mode reported through the IQ, then, with the IQ gone, the fallback on what the
//! lock stores: the master key opens, a tag and a key without offline access do not, until an
//! admin grants the key offline access.

use std::time::Duration;

use anyhow::anyhow;
use keyway_core::simulator::InstalledLock;
use keyway_protocol::RefusalReason;
use keyway_sim::lock::IQ_LINK_TIMEOUT_SECONDS;
use keyway_sim::SimulatedTag;

use super::remote::Person;
use super::Steps;

/// The demo's two tags, registered while the IQ is online.
pub struct Tags {
    admin: SimulatedTag,
    tenant: SimulatedTag,
}

fn verdict(lock: &InstalledLock, tag: &SimulatedTag) -> anyhow::Result<String> {
    let reply = lock
        .lock
        .lock()
        .map_err(|_| anyhow!("the lock is poisoned"))?
        .present_tag(tag, 0)?;
    Ok(match reply.refusal {
        None => "GRANTED".into(),
        Some(reason) => format!("REFUSED: {}", reason.describe()),
    })
}

async fn register(
    admin: &Person<'_>,
    site_id: u32,
    tag: &SimulatedTag,
    holder: u32,
) -> anyhow::Result<()> {
    admin
        .phone
        .admin()
        .register_tag(
            site_id,
            format!("{:014x}", tag.tag_id()),
            tag.public_key().as_bytes().to_vec(),
            Some(holder),
        )
        .await?;
    Ok(())
}

/// Tags and privacy mode, while the IQ is online.
pub async fn online(
    steps: &mut Steps,
    site_id: u32,
    admin: Person<'_>,
    tenant: Person<'_>,
    front: &InstalledLock,
) -> anyhow::Result<Tags> {
    let tags = steps
        .run(
            "the admin registers two tags: their own (the owner's: the master key) and the \
             tenant's; both open the front door, a card with a copied id does not",
            async {
                let tags = Tags {
                    admin: SimulatedTag::new()?,
                    tenant: SimulatedTag::new()?,
                };
                register(&admin, site_id, &tags.admin, admin.user_id).await?;
                register(&admin, site_id, &tags.tenant, tenant.user_id).await?;
                // The IQ pushes the lists to the lock within milliseconds.
                tokio::time::sleep(Duration::from_millis(200)).await;
                println!("    the admin's tag: {}", verdict(front, &tags.admin)?);
                println!("    the tenant's tag: {}", verdict(front, &tags.tenant)?);
                let clone = tags.tenant.copy_id()?;
                println!(
                    "    a copy of the tenant's tag id: {}",
                    verdict(front, &clone)?
                );
                Ok(tags)
            },
        )
        .await?;
    steps
        .run(
            "someone inside turns the privacy knob; the admin sees it through the IQ; the \
             tenant's tag is refused",
            async {
                front
                    .lock
                    .lock()
                    .map_err(|_| anyhow!("the lock is poisoned"))?
                    .set_privacy(true)?;
                let mut seen = false;
                for _ in 0..100 {
                    let locks = admin.phone.admin().list_locks(site_id).await?;
                    if locks
                        .iter()
                        .any(|l| l.lock_id == front.lock_id && l.state.privacy_engaged)
                    {
                        seen = true;
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                println!("    the admin's lock list: privacy engaged = {seen}");
                println!("    the tenant's tag: {}", verdict(front, &tags.tenant)?);
                front
                    .lock
                    .lock()
                    .map_err(|_| anyhow!("the lock is poisoned"))?
                    .set_privacy(false)?;
                Ok(())
            },
        )
        .await?;
    Ok(tags)
}

/// The fallback, once the IQ is gone.
pub async fn iq_gone(
    steps: &mut Steps,
    site_id: u32,
    admin: Person<'_>,
    tenant: Person<'_>,
    front: &InstalledLock,
    tags: &Tags,
) -> anyhow::Result<()> {
    steps
        .run(
            "half a minute without its IQ, the lock falls back on what it stores: the master \
             key opens, the tenant's tag and their key without offline access do not",
            async {
                front
                    .lock
                    .lock()
                    .map_err(|_| anyhow!("the lock is poisoned"))?
                    .clock_mut()
                    .advance(IQ_LINK_TIMEOUT_SECONDS + 1);
                println!(
                    "    the admin's master key: {}",
                    verdict(front, &tags.admin)?
                );
                println!("    the tenant's tag: {}", verdict(front, &tags.tenant)?);
                let report = tenant.phone.wallet().unlock(front.lock_id).await?;
                if report.refusal != Some(RefusalReason::RevocationStale) {
                    return Err(anyhow!("the key opened without its IQ: {report:?}"));
                }
                println!(
                    "    the tenant's phone: REFUSED: {} ({:?})",
                    report.refusal_message.unwrap_or_default(),
                    report.advice
                );
                Ok(())
            },
        )
        .await?;
    steps
        .run(
            "the admin grants the tenant's key offline access; after a key sync it opens with \
             the IQ still gone",
            async {
                admin
                    .phone
                    .admin()
                    .set_offline_access(site_id, tenant.user_id, true)
                    .await?;
                tenant.phone.wallet().sync().await?;
                let works = tenant
                    .phone
                    .wallet()
                    .keys()
                    .await?
                    .iter()
                    .any(|k| k.works_offline);
                let report = tenant.phone.wallet().unlock(front.lock_id).await?;
                println!(
                    "    works offline: {works}; the door: {}",
                    if report.granted { "GRANTED" } else { "REFUSED" }
                );
                Ok(())
            },
        )
        .await?;
    Ok(())
}
