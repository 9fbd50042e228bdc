"""The one GAN training engine (`gan_app.train.loop.fit`) and what it needs."""
