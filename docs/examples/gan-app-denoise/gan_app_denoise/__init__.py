"""A denoising head for gan-app, packaged as a plugin (entry point `gan_app.heads`)."""
