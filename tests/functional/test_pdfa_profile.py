"""The PDF/A output intent's ICC profile is the same in every process, so the same
document drawn by two processes (a build, a resend after a restart) is the same PDF."""

from __future__ import annotations

import subprocess
import sys

from PIL import ImageCms

from mailing.pdf.pdfa import srgb_profile

CODE = (
    "import sys; from mailing.pdf.pdfa import srgb_profile; sys.stdout.buffer.write(srgb_profile())"
)


def test_two_processes_make_the_same_profile_and_lcms_still_reads_it() -> None:
    made = [
        subprocess.run([sys.executable, "-c", CODE], capture_output=True, check=True).stdout
        for _ in range(2)
    ]
    assert made[0] == made[1] == srgb_profile()
    assert made[0][24:36] == bytes.fromhex("07ea00010001000000000000")
    # A real colour engine still takes it for sRGB.
    import io

    profile = ImageCms.ImageCmsProfile(io.BytesIO(made[0]))
    assert "sRGB" in ImageCms.getProfileDescription(profile)
