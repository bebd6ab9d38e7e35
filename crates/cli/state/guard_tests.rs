//! Tests of what a reversal may touch.

use std::os::unix::fs::symlink;

use super::*;

fn paths(home: &Path) -> Paths {
    Paths::under(home)
}

#[test]
fn only_files_below_the_unit_directory_or_context_store_may_be_touched() {
    let dir = tempfile::tempdir().unwrap();
    let p = paths(dir.path());
    let unit_dir = &p.unit_dir;
    std::fs::create_dir_all(unit_dir.join("docker.service.d")).unwrap();
    assert_eq!(file_refusal(&unit_dir.join("docker.service"), &p), None);
    assert_eq!(
        file_refusal(
            &unit_dir.join("docker.service.d/10-rootless-setup.conf"),
            &p
        ),
        None
    );
    assert_eq!(
        file_refusal(&p.docker_config.join("contexts/meta/x/meta.json"), &p),
        None
    );
    assert_eq!(
        file_refusal(&p.containers_conf_dir().join("50-rootless-setup.conf"), &p),
        None,
        "Podman's drop-in"
    );
    let outside =
        "it is not below ~/.config/systemd/user, ~/.docker/contexts or ~/.config/containers/containers.conf.d, where install writes"
            .to_owned();
    for hostile in [
        dir.path().join(".bashrc"),
        PathBuf::from("/etc/passwd"),
        unit_dir.clone(),
        dir.path().join(".config/systemd/user-other/x"),
        p.docker_config.join("config.json"),
        p.config_home.join("containers/containers.conf"),
        p.containers_conf_dir(),
        p.config_home.join("containers/storage.conf"),
    ] {
        assert_eq!(
            file_refusal(&hostile, &p),
            Some(outside.clone()),
            "{}",
            hostile.display()
        );
    }
    assert_eq!(
        file_refusal(&unit_dir.join("../../../.bashrc"), &p),
        Some("it is not a plain absolute path".into())
    );
    assert_eq!(
        file_refusal(Path::new("relative/docker.service"), &p),
        Some(outside)
    );
}

#[test]
fn a_symlink_below_the_root_is_never_followed() {
    let dir = tempfile::tempdir().unwrap();
    let p = paths(dir.path());
    std::fs::create_dir_all(&p.unit_dir).unwrap();
    std::fs::create_dir_all(dir.path().join("elsewhere")).unwrap();
    std::fs::write(dir.path().join("elsewhere/10.conf"), "x").unwrap();
    symlink(
        dir.path().join("elsewhere"),
        p.unit_dir.join("docker.service.d"),
    )
    .unwrap();
    assert_eq!(
        file_refusal(&p.unit_dir.join("docker.service.d/10.conf"), &p),
        Some(
            "~/.config/systemd/user/docker.service.d is a symbolic link, which is never followed"
                .into()
        )
    );
    symlink(
        dir.path().join(".bashrc"),
        p.unit_dir.join("docker.service"),
    )
    .unwrap();
    assert_eq!(
        file_refusal(&p.unit_dir.join("docker.service"), &p),
        Some(
            "~/.config/systemd/user/docker.service is a symbolic link, which is never followed"
                .into()
        )
    );
    std::fs::create_dir(p.unit_dir.join("dir.service")).unwrap();
    assert_eq!(
        file_refusal(&p.unit_dir.join("dir.service"), &p),
        Some("it is a directory".into())
    );
    std::fs::write(p.unit_dir.join("file"), "").unwrap();
    assert_eq!(
        file_refusal(&p.unit_dir.join("file/x.conf"), &p),
        Some("~/.config/systemd/user/file is not a directory".into())
    );
    // The root itself may be a symlink (dotfiles): only what is below it is checked.
    let real = dir.path().join("dotfiles-docker");
    std::fs::create_dir_all(real.join("contexts")).unwrap();
    symlink(&real, &p.docker_config).unwrap();
    assert_eq!(
        file_refusal(&p.docker_config.join("contexts/meta.json"), &p),
        None
    );
}

#[test]
fn directories_only_those_install_creates() {
    let dir = tempfile::tempdir().unwrap();
    let p = paths(dir.path());
    assert_eq!(dir_refusal(&p.unit_dir.join("docker.service.d"), &p), None);
    assert_eq!(dir_refusal(&dir.path().join(".config/systemd"), &p), None);
    assert_eq!(dir_refusal(&dir.path().join(".local/state"), &p), None);
    for hostile in [
        dir.path().to_path_buf(),
        dir.path().join("Documents"),
        PathBuf::from("/etc"),
        PathBuf::from("/"),
    ] {
        assert_eq!(
            dir_refusal(&hostile, &p),
            Some("it is not a directory install creates".into()),
            "{}",
            hostile.display()
        );
    }
    std::fs::create_dir_all(dir.path().join("real")).unwrap();
    std::fs::create_dir_all(dir.path().join(".config/systemd")).unwrap();
    symlink(dir.path().join("real"), &p.unit_dir).unwrap();
    assert_eq!(
        dir_refusal(&p.unit_dir, &p),
        Some("it is a symbolic link".into())
    );
}

#[test]
fn only_a_marked_data_directory_may_be_purged() {
    let dir = tempfile::tempdir().unwrap();
    let uid = nix::unistd::getuid().as_raw();
    let data = dir.path().join("share/docker");
    assert!(
        data_root_refusal(&data, uid)
            .unwrap()
            .starts_with("it cannot be examined")
    );
    let documents = dir.path().join("Documents");
    std::fs::create_dir_all(&documents).unwrap();
    let unmarked = format!(
        "it does not carry the marker {DATA_ROOT_MARKER} install puts in the data directory it uses"
    );
    assert_eq!(data_root_refusal(&documents, uid), Some(unmarked.clone()));
    assert!(mark_data_root(&data, uid).unwrap());
    assert!(!mark_data_root(&data, uid).unwrap());
    assert_eq!(data_root_refusal(&data, uid), None);
    assert_eq!(data_root_refusal(&data, uid + 1), Some(unmarked.clone()));
    // A marker of another uid, or a symlinked marker or directory, does not count.
    std::fs::write(documents.join(DATA_ROOT_MARKER), format!("{}\n", uid + 1)).unwrap();
    assert_eq!(data_root_refusal(&documents, uid), Some(unmarked.clone()));
    // The marker's owner counts as much as its text: ours, naming uid + 1, is not uid + 1's.
    assert_eq!(
        data_root_refusal(&documents, uid + 1),
        Some(unmarked.clone())
    );
    std::fs::remove_file(documents.join(DATA_ROOT_MARKER)).unwrap();
    symlink(
        data.join(DATA_ROOT_MARKER),
        documents.join(DATA_ROOT_MARKER),
    )
    .unwrap();
    assert_eq!(data_root_refusal(&documents, uid), Some(unmarked));
    let link = dir.path().join("link");
    symlink(&data, &link).unwrap();
    assert_eq!(
        data_root_refusal(&link, uid),
        Some("it is a symbolic link".into())
    );
    // Unmarking removes the marker, and the directory only when install created it and it is
    // empty.
    std::fs::write(data.join("image"), "x").unwrap();
    unmark_data_root(&data, true, uid).unwrap();
    assert!(!data.join(DATA_ROOT_MARKER).exists());
    assert!(data.exists());
    std::fs::remove_file(data.join("image")).unwrap();
    mark_data_root(&data, uid).unwrap();
    unmark_data_root(&data, true, uid).unwrap();
    assert!(!data.exists());
}
