"""``warta backup``, ``warta restore`` and ``warta media check|migrate``: the commands an
operator runs on the installation itself (docs/ops/README.md)."""

from __future__ import annotations

from pathlib import Path

import click

from publisher.cli import cli, friendly, make_core


@cli.command(help="Cadangkan database dan media ke folder baru / back up the database and the "
                  "media into a new folder.")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@friendly
def backup(folder: Path) -> None:
    from publisher import backup as bk

    core = make_core()
    try:
        done = bk.backup(core, folder)
    finally:
        core.engine.dispose()
    click.echo(f"Cadangan / backup of {bk.database_label(core)} ({done.backend}, schema "
               f"{done.revision}) and {done.media_files} media files ({done.media_bytes} bytes) "
               f"in {folder}.")
    click.echo("Simpan WARTA_ENCRYPTION_KEY terpisah: kunci itu tidak ada di cadangan / keep "
               "WARTA_ENCRYPTION_KEY apart: it is not in the backup.")


@cli.command(help="Pulihkan cadangan ke instalasi kosong / restore a backup into an empty "
                  "installation.")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@friendly
def restore(folder: Path) -> None:
    from publisher import backup as bk

    core = make_core(create=True)
    try:
        done = bk.restore(core, folder)
        opens = bk.credentials_open(core)
    finally:
        core.engine.dispose()
    click.echo(f"Dipulihkan / restored into {bk.database_label(core)}: schema {done.revision}, "
               f"{done.media_files} media files.")
    if opens is False:
        click.echo("Peringatan: kredensial saluran tidak dapat dibuka dengan WARTA_ENCRYPTION_KEY "
                   "ini; pakai kunci instalasi asal / warning: the channels' credentials cannot "
                   "be opened with this WARTA_ENCRYPTION_KEY; use the original installation's.",
                   err=True)


@cli.group(help="Media / the media store.")
def media() -> None:
    pass


def _problems(report) -> None:  # type: ignore[no-untyped-def]
    for key, problem in report.problems[:50]:
        click.echo(f"  {key}: {problem}", err=True)
    if len(report.problems) > 50:
        click.echo(f"  … dan / and {len(report.problems) - 50} lagi / more", err=True)


@media.command("check", help="Periksa bahwa setiap media ada (dan utuh) / check that every "
                             "medium is in the store (and intact).")
@click.option("--verify", is_flag=True, help="baca setiap byte dan cocokkan hash / read every "
              "byte and compare the hashes")
@friendly
def media_check(verify: bool) -> None:
    from publisher.storage import maintenance

    core = make_core()
    report = maintenance.check(core, verify=verify)
    core.engine.dispose()
    click.echo(f"{report.checked} media diperiksa / checked, {len(report.problems)} masalah / "
               "problems.")
    if report.problems:
        _problems(report)
        raise SystemExit(1)


@media.command("migrate", help="Salin media ke penyimpanan objek (dapat diulang) / copy the "
                               "media into object storage (resumable).")
@click.option("--to", "target_url", required=True, help="s3://bucket/prefix; endpoint and keys "
              "from WARTA_S3_*")
@friendly
def media_migrate(target_url: str) -> None:
    from publisher.storage import maintenance, storage_for
    from publisher.storage.s3 import S3Storage

    core = make_core()
    core.engine.dispose()
    settings = core.settings
    if settings.media_url == target_url:
        raise ValueError(f"WARTA_MEDIA_URL is already {target_url}")
    target = S3Storage.from_url(target_url, cache_dir=settings.media_dir,
                                endpoint_url=settings.s3_endpoint_url, region=settings.s3_region,
                                access_key=settings.s3_access_key_id,
                                secret_key=settings.s3_secret_access_key)
    target.check()
    report = maintenance.migrate(storage_for(settings), target)
    click.echo(f"{report.copied} disalin / copied, {report.skipped} sudah ada / already there, "
               f"{len(report.problems)} masalah / problems.")
    if report.problems:
        _problems(report)
        raise SystemExit(1)
    click.echo(f"Selesai: atur WARTA_MEDIA_URL={target_url} lalu mulai ulang web dan penerbit / "
               f"done: set WARTA_MEDIA_URL={target_url} and restart the web app and the workers.")


@media.command("trim-cache", help="Kecilkan salinan lokal penyimpanan objek / trim this "
                                  "machine's cache of the object store.")
@click.option("--keep-gb", type=click.FloatRange(min=0), required=True,
              help="ukuran cache yang boleh tersisa / how much may stay, in GB")
@click.option("--min-age-hours", type=click.FloatRange(min=0), default=24.0, show_default=True,
              help="jangan hapus yang dipakai dalam sekian jam / keep what was used this recently")
@friendly
def media_trim_cache(keep_gb: float, min_age_hours: float) -> None:
    import time
    from datetime import timedelta

    from publisher.storage import storage_for
    from publisher.storage.trim import trim_cache

    core = make_core()
    core.engine.dispose()
    settings = core.settings
    if not settings.media_url:
        raise ValueError("WARTA_MEDIA_DIR adalah penyimpanan media itu sendiri (tanpa "
                         "WARTA_MEDIA_URL), bukan cache: tidak ada yang dihapus / without "
                         "WARTA_MEDIA_URL the folder is the media store itself, not a cache: "
                         "nothing was removed.")
    store = storage_for(settings)
    report = trim_cache(settings.media_dir, set(store.keys()), int(keep_gb * 1024 ** 3),
                        timedelta(hours=min_age_hours), time.time())
    click.echo(f"{report.removed} berkas dihapus / files removed ({report.freed_bytes} bytes); "
               f"{report.kept_bytes} bytes tersisa / kept.")
    if report.recent_kept:
        click.echo(f"{report.recent_kept} berkas baru dipakai dibiarkan / recently used files "
                   f"kept (--min-age-hours {min_age_hours:g}).")
