// s3echoer is the app of the pod-IAM walkthrough: it reads a message from standard input and
// writes it as an object to the S3 bucket named on its command line (or in TARGET_BUCKET).
//
// Like the app that walkthrough deploys, it knows nothing of podiam nor of where AWS is: the
// default session of aws-sdk-go v1 takes the region (AWS_REGION), the credentials (a web
// identity: AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE) and the way out (HTTPS_PROXY,
// AWS_CA_BUNDLE) from its environment, and S3 is addressed virtual-hosted style
// (https://BUCKET.s3.amazonaws.com/KEY), the SDK's default.
//
// Exit status 0 when the object is written; 1 on a usage error; 2 when the upload fails (the
// SDK's error, AWS error code first, on standard error).
package main

import (
	"fmt"
	"io/ioutil"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/awserr"
	"github.com/aws/aws-sdk-go/aws/session"
	"github.com/aws/aws-sdk-go/service/s3/s3manager"
)

func main() {
	bucket := os.Getenv("TARGET_BUCKET")
	if len(os.Args) > 1 {
		bucket = os.Args[1]
	}
	if bucket == "" {
		fmt.Fprintln(os.Stderr, "usage: s3echoer BUCKET < message   (or TARGET_BUCKET=BUCKET)")
		os.Exit(1)
	}
	message, err := ioutil.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "s3echoer: reading standard input: %v\n", err)
		os.Exit(1)
	}
	if len(strings.TrimSpace(string(message))) == 0 {
		message = []byte("hello from s3echoer\n")
	}

	sess := session.Must(session.NewSession())
	uploader := s3manager.NewUploader(sess)
	key := fmt.Sprintf("s3echoer-%d", time.Now().UnixNano())
	out, err := uploader.Upload(&s3manager.UploadInput{
		Bucket: aws.String(bucket),
		Key:    aws.String(key),
		Body:   strings.NewReader(string(message)),
	})
	if err != nil {
		if aerr, ok := err.(awserr.Error); ok {
			fmt.Fprintf(os.Stderr, "%s: can't upload to %s: %v\n", aerr.Code(), bucket, err)
		} else {
			fmt.Fprintf(os.Stderr, "can't upload to %s: %v\n", bucket, err)
		}
		os.Exit(2)
	}
	fmt.Printf("Uploaded %s to %s (%s)\n", key, bucket, out.Location)
}
