"""Super-resolution head (SRGAN/ESRGAN): `gan-app upscale photo.png --scale 4`."""
