"""DeblurGAN-style deblurring head: `gan-app deblur photo.png`."""
